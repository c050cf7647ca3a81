"""The data-element and PSI console pages, through the real app (TestClient)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from contracts_support import Parties
from elements_support import METER_SQL, power_company
from litestar.testing import TestClient
from psi_support import open_pair, psi_parties, uscc
from web_support import csrf_of, sign_in

from shuchang.app import create_app
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]
STEPS = '[{"op":"hash","column":"uscc"},{"op":"band","column":"kwh","width":500}]'


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(platform.settings, platform)) as test_client:
        yield test_client


def _define(client: Client, token: str, resource_id: str, **fields: str) -> httpx.Response:
    body = {
        "_csrf": token,
        "name": "power-index",
        "title": "企业月度用电指数",
        "resource_id": resource_id,
        "alias": "meter",
        "sql": METER_SQL,
        "steps": STEPS,
        "qi": "district,kwh",
        "k": "5",
        "on_violation": "suppress",
        **fields,
    }
    return client.post("/console/compute/elements", data=body, follow_redirects=False)


def test_a_provider_defines_and_runs_an_element_in_the_console(
    platform: Platform, client: TestClient
) -> None:  # type: ignore[type-arg]
    company = power_company(platform, Path(platform.settings.data_root))
    assert sign_in(client, company.member.api_key).status_code == 303
    page = client.get("/console/compute/elements")
    assert page.status_code == 200 and "企业用电计量数据" in page.text  # the source to choose
    token = csrf_of(page)
    bad = _define(client, token, str(company.resource_id), sql="DELETE FROM meter")
    assert bad.status_code == 422 and 'data-code="element.sql_not_select"' in bad.text
    assert "DELETE FROM meter" in bad.text  # what was typed is kept
    made = _define(client, token, str(company.resource_id))
    assert made.status_code == 303, made.text
    detail = made.headers["location"]
    ran = client.post(f"{detail}/run", data={"_csrf": token}, follow_redirects=True)
    assert ran.status_code == 200 and 'data-status="succeeded"' in ran.text
    assert re.search(r'class="sm3">[0-9a-f]{64}<', ran.text)
    assert 'class="smallest">' in ran.text and 'id="listing-form"' in ran.text


def test_psi_pages_show_the_start_form_and_a_session_result(
    platform: Platform, tmp_path: Path
) -> None:
    parties: Parties = psi_parties(platform)
    with open_pair(platform, tmp_path, parties) as pair:
        pair_client = pair.consumer.client
        assert sign_in(pair_client, parties.consumer.member.api_key).status_code == 303
        page = pair_client.get(f"/console/compute/psi?agreement={pair.agreement_id}")
        assert page.status_code == 200 and 'id="psi-form"' in page.text
        token = csrf_of(page)
        csv = "uscc\n" + "\n".join(uscc(n) for n in range(280, 320)) + "\n"
        answer = pair_client.post(
            "/console/compute/psi",
            data={
                "_csrf": token,
                "agreement_id": str(pair.agreement_id),
                "mode": "intersection",
                "column": "uscc",
            },
            files={"file": ("applicants.csv", csv.encode(), "text/csv")},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        result = pair_client.get(answer.headers["location"])
        assert 'data-state="COMPLETED"' in result.text
        assert '<strong id="result-size">20</strong>' in result.text
        assert uscc(299) in result.text and uscc(300) not in result.text  # members, consumer side
