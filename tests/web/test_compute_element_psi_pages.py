"""Compute pages (隐私计算) through HTTP on both backends: the consumer's query page shows the
remaining budget and answers with ε and noise; the provider sees its job log (no answers)
and edits its profile; refusals are flash messages that change nothing."""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "compute"))
from compute_flow import DEFAULT_RATE, Space, open_space
from web_support import csrf_of, post_form, sign_in

from shuchang.platform import Platform


@pytest.fixture
def space(platform: Platform, tmp_path: Path) -> Iterator[Space]:
    with open_space(platform, tmp_path) as opened:
        yield opened


def _flash(page: str) -> str:
    found = re.search(r'<div class="flash flash-(\w+)" role="status">([^<]*)</div>', page)
    assert found, "no flash message"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


def test_the_consumer_queries_and_sees_epsilon_noise_and_budget(space: Space) -> None:
    client = space.side.client
    sign_in(client, space.parties.consumer.member.api_key)
    index = client.get("/console/compute")
    assert index.status_code == 200 and str(space.agreement_id) in index.text
    url = f"/console/compute/agreements/{space.agreement_id}"
    page = client.get(url)
    assert 'id="period-remaining" data-value="3.0"' in page.text
    answer = post_form(client, url, csrf_of(page), sql=DEFAULT_RATE, epsilon="0.4")
    assert answer.status_code == 303, answer.text
    job = client.get(answer.headers["location"])
    assert 'data-state="succeeded"' in job.text
    assert 'id="answer-epsilon">0.4<' in job.text
    assert job.text.count('class="statistic"') == 3 and 'class="scale"' in job.text
    assert "default_rate" in job.text
    again = client.get(url)
    assert 'id="period-remaining" data-value="2.6"' in again.text


def test_a_refused_query_is_a_flash_and_spends_nothing(space: Space) -> None:
    client = space.side.client
    sign_in(client, space.parties.consumer.member.api_key)
    url = f"/console/compute/agreements/{space.agreement_id}"
    answer = post_form(
        client, url, csrf_of(client.get(url)), sql="SELECT uscc, COUNT(*) FROM tax GROUP BY uscc"
    )
    assert answer.status_code == 303 and answer.headers["location"] == url
    page = client.get(url)
    assert "个人/主体标识列" in _flash(page.text)
    assert 'data-value="3.0"' in page.text


def test_the_template_form_binds_parameters(space: Space) -> None:
    client = space.side.client
    sign_in(client, space.parties.consumer.member.api_key)
    url = f"/console/compute/agreements/{space.agreement_id}"
    fields = {"template": "district_invoices", "param.district_invoices.industry": "G54"}
    answer = post_form(client, url, csrf_of(client.get(url)), **fields)
    job = client.get(answer.headers["location"])
    assert "invoices" in job.text and "&#39;G54&#39;" in job.text


def test_the_provider_sees_its_job_log_and_edits_the_profile(space: Space) -> None:
    client = space.side.client
    sign_in(client, space.parties.consumer.member.api_key)
    url = f"/console/compute/agreements/{space.agreement_id}"
    post_form(client, url, csrf_of(client.get(url)), template="default_rate")
    sign_in(client, space.parties.provider.member.api_key)
    profile_url = f"/console/compute/products/{space.product_id}/profile"
    page = client.get(profile_url)
    assert page.status_code == 200 and 'data-state="succeeded"' in page.text
    job_id = re.search(r'<tr data-id="([0-9a-f-]+)" data-state="succeeded">', page.text).group(1)  # type: ignore[union-attr]
    seen = client.get(f"/console/compute/jobs/{job_id}")
    assert seen.status_code == 200 and 'id="normalised"' in seen.text
    assert 'id="answer-table"' not in seen.text  # the provider's log never shows answers
    bad = post_form(
        client,
        profile_url,
        csrf_of(page),
        profile='{"person": "name", "dimensions": [], "measures": []}',
    )
    assert bad.status_code == 422 and 'data-field="person"' in bad.text
    body = html.unescape(
        re.search(r'<textarea id="profile"[^>]*>(.*?)</textarea>', page.text, re.S).group(1)
    )  # type: ignore[union-attr]
    ok = post_form(client, profile_url, csrf_of(page), profile=body.replace('"k": 10', '"k": 12'))
    assert ok.status_code == 303
    assert "第 2 版" in client.get(profile_url).text
