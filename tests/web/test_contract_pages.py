"""Contract pages (数字合约) through HTTP, on SQLite and PostgreSQL.

A negotiation and its agreement are built in one database with the contracts domain's own
functions (the provider's connector is this platform's). Both parties and oversight see the
negotiation's timeline and the agreement with both signatures checked; the signed file
downloaded verifies offline; the "try a decision" form permits and denies with the reasons
and counts nothing; anyone else is told neither exists. The provider approves (manual mode)
or terminates from the console, and a consumer requests access from a product page — or is
told clearly why this platform's connector cannot ask for it.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from contract_pages_support import (
    CONSUMER_NAME,
    CONSUMER_URL,
    PROVIDER_NAME,
    PROVIDER_URL,
    PURPOSE,
    RecordingTransport,
    agreed,
    concluded,
    console_settings,
    console_with_connector,
    parties,
    requested,
    sequence_and_publish,
)
from sqlalchemy import func, select
from web_support import Client, csrf_of, post_form, sign_in

import factories
from shuchang.domains.contracts import agreements
from shuchang.domains.contracts.models import Agreement, Negotiation, Usage
from shuchang.platform import Platform
from shuchang.settings import Settings
from shuchang.web import nav
from shuchang.web.console import local_time


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return console_settings(db_url, tmp_path)


def _switch(client: Client, api_key: str | None) -> None:
    client.cookies.clear()
    sign_in(client, api_key)


def _state(platform: Platform, negotiation_id: object) -> str:
    with platform.unit(write=False) as s:
        n = s.get(Negotiation, negotiation_id)
        assert n is not None
        return n.state


def _flash(page: str) -> str:
    found = re.search(r'<div class="flash flash-(\w+)" role="status">([^<]*)</div>', page)
    assert found, "no flash message"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


# --- what both parties see ------------------------------------------------------------------


def test_parties_see_the_negotiation_in_both_languages(client: Client, platform: Platform) -> None:
    deal = concluded(platform)
    sign_in(client, deal.consumer.api_key)
    home = client.get("/console/")
    assert ">合约协商</a>" in home.text and ">合约</a>" in home.text
    assert ">存证日志</a>" not in home.text

    listing = client.get("/console/contracts/negotiations")
    row = re.search(rf'<tr data-id="{deal.negotiation_id}".*?</tr>', listing.text, re.S)
    assert row, listing.text
    assert 'data-state="FINALIZED"' in row.group(0) and "已生效" in row.group(0)
    assert PROVIDER_NAME in row.group(0) and "企业登记信息数据集" in row.group(0)
    assert '<span class="chip">使用方</span>' in row.group(0)  # the consumer's side
    assert "已生效" in client.get("/console/contracts/negotiations?state=FINALIZED").text
    assert "暂无合约协商" in client.get("/console/contracts/negotiations?state=REQUESTED").text

    page = client.get(f"/console/contracts/negotiations/{deal.negotiation_id}")
    assert page.status_code == 200
    timeline = re.findall(r'data-message="(\w+)"', page.text)
    assert timeline == [
        "ContractRequestMessage",
        "ContractAgreementMessage",
        "ContractAgreementVerificationMessage",
        "FINALIZED",
    ]
    for shown in ("合约请求", "核验并会签", "收到", "发出", PROVIDER_NAME, CONSUMER_NAME):
        assert shown in page.text, shown
    assert f"用途：{PURPOSE}" in page.text
    assert f'href="/console/contracts/agreements/{deal.agreement_id}"' in page.text
    assert 'id="approve"' not in page.text and 'id="terminate"' not in page.text  # final
    english = client.get(f"/console/contracts/negotiations/{deal.negotiation_id}?lang=en")
    assert "Verification (countersigned)" in english.text and "Finalized" in english.text

    _switch(client, deal.provider.api_key)
    listing = client.get("/console/contracts/negotiations?lang=zh-CN")
    row = re.search(rf'<tr data-id="{deal.negotiation_id}".*?</tr>', listing.text, re.S)
    assert row and CONSUMER_NAME in row.group(0)
    assert '<span class="chip">提供方</span>' in row.group(0)


def test_parties_see_the_agreement_in_both_languages(client: Client, platform: Platform) -> None:
    deal = concluded(platform)
    sign_in(client, deal.consumer.api_key)
    agreements_page = client.get("/console/contracts/agreements")
    row = re.search(rf'<tr data-id="{deal.agreement_id}".*?</tr>', agreements_page.text, re.S)
    assert row and "生效中" in row.group(0) and PURPOSE in row.group(0)

    page = client.get(f"/console/contracts/agreements/{deal.agreement_id}")
    assert page.status_code == 200
    assert PROVIDER_NAME in page.text and CONSUMER_NAME in page.text
    assert f'id="purpose">{PURPOSE}<' in page.text
    assert 'id="price">¥1,000.00（一次性）<' in page.text
    validity = re.search(r'id="validity">(\S+ \S+) — (\S+ \S+)', page.text)
    assert validity, "no validity window"
    with platform.unit(write=False) as s:
        row_ = s.get(Agreement, deal.agreement_id)
        assert row_ is not None
        assert validity.groups() == (local_time(row_.valid_from), local_time(row_.valid_until))
    terms = re.search(r'<div id="terms">(.*?)</div>', page.text, re.S)
    assert terms
    assert f"用途：{PURPOSE}" in terms.group(1) and "义务：支付对价" in terms.group(1)
    assert "¥1,000.00" in terms.group(1)
    assert page.text.count('data-verified="true"') == 2
    assert 'data-verified="false"' not in page.text and 'id="both-verified"' in page.text
    assert page.text.count(">已登记</span>") == 2  # both are the parties' registered keys
    assert f"shuchang contracts verify agreement-{deal.agreement_id}.json" in page.text
    assert "合约订立" in page.text and "合约请求" in page.text  # agreement: and negotiation:

    english = client.get(f"/console/contracts/agreements/{deal.agreement_id}?lang=en")
    assert "Both signatures verify" in english.text and "In force" in english.text
    assert f"Purpose: {PURPOSE}" in english.text and "¥1,000.00 (one-off)" in english.text
    assert "Try a decision" in english.text


def test_the_downloaded_agreement_verifies_offline(client: Client, platform: Platform) -> None:
    deal = concluded(platform)
    sign_in(client, deal.consumer.api_key)
    response = client.get(f"/console/contracts/agreements/{deal.agreement_id}/document")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="agreement-{deal.agreement_id}.json"'
    )
    document = json.loads(response.content)
    lines = agreements.verify_document(
        document,
        {
            deal.provider.urn: deal.provider.signer.public_key(),
            deal.consumer.urn: deal.consumer.signer.public_key(),
        },
    )
    assert len(lines) == 2 and all(line.endswith(": OK") for line in lines)
    assert document["agreement"]["@id"] == f"urn:uuid:{deal.agreement_id}"

    forged = json.loads(response.content)
    forged["agreement"]["shuchang:price"]["amountFen"] = "1"
    with pytest.raises(agreements.AgreementInvalid):
        agreements.verify_document(forged)


def test_a_forged_signature_shows_a_cross(client: Client, platform: Platform) -> None:
    deal = concluded(platform)
    with platform.unit() as s:
        row = s.get(Agreement, deal.agreement_id)
        assert row is not None
        signatures = [dict(sig) for sig in row.signatures]
        signatures[1]["signature"] = signatures[0]["signature"]
        row.signatures = signatures
    sign_in(client, deal.provider.api_key)
    page = client.get(f"/console/contracts/agreements/{deal.agreement_id}")
    assert 'data-role="assigner" data-verified="true"' in page.text
    assert 'data-role="assignee" data-verified="false"' in page.text
    assert "assignee 的签名验证失败" in page.text and 'id="both-verified"' not in page.text


def test_try_a_decision_permits_and_denies_with_reasons(client: Client, platform: Platform) -> None:
    deal = concluded(platform)
    sign_in(client, deal.consumer.api_key)
    path = f"/console/contracts/agreements/{deal.agreement_id}"

    permitted = client.get(path, params={"action": "use", "purpose": PURPOSE, "fields": "uscc"})
    assert permitted.status_code == 200
    assert 'data-permitted="true"' in permitted.text and "✓ 允许" in permitted.text
    reason = re.search(r'id="decision-reason">(.*?)</pre>', permitted.text, re.S)
    assert reason and "允许" in reason.group(1)
    assert 'id="use-purpose" name="purpose" maxlength="200" value="小微企业信贷风险评估"' in (
        permitted.text
    )

    denied = client.get(path, params={"action": "use", "purpose": "精准营销"})
    assert 'data-permitted="false"' in denied.text and "✗ 拒绝" in denied.text
    reason = re.search(r'id="decision-reason">(.*?)</pre>', denied.text, re.S)
    assert reason and "用途" in reason.group(1)
    english = client.get(path, params={"action": "distribute", "lang": "en"})
    assert 'data-permitted="false"' in english.text and "✗ Denied" in english.text

    bad = client.get(path, params={"action": "use", "fields": "x" * 64})
    assert bad.status_code == 422 and 'id="fields-error"' in bad.text
    unknown = client.get(path, params={"action": "sell"})
    assert unknown.status_code == 422 and 'id="action-error"' in unknown.text
    with platform.unit(write=False) as s:  # a trial counts nothing
        assert s.scalar(select(func.count()).select_from(Usage)) == 0


def test_no_party_no_page(client: Client, platform: Platform) -> None:
    deal = concluded(platform)
    stranger = factories.participant(platform, roles=("consumer",))
    sign_in(client, stranger.api_key)
    for path in (
        f"/console/contracts/negotiations/{deal.negotiation_id}",
        f"/console/contracts/agreements/{deal.agreement_id}",
        f"/console/contracts/agreements/{deal.agreement_id}/document",
        f"/console/contracts/agreements/{deal.agreement_id}?action=use",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "不存在" in response.text
    assert "暂无合约协商" in client.get("/console/contracts/negotiations").text
    assert "暂无合约" in client.get("/console/contracts/agreements").text

    _switch(client, factories.regulator(platform).api_key)
    assert client.get(f"/console/contracts/agreements/{deal.agreement_id}").status_code == 200
    listing = client.get("/console/contracts/negotiations")
    assert str(deal.negotiation_id) in listing.text
    assert ">合约协商</a>" in listing.text and ">存证日志</a>" in listing.text


def test_evidence_receipts_of_the_agreement(client: Client, platform: Platform) -> None:
    deal = concluded(platform)
    sequence_and_publish(platform)
    sign_in(client, deal.consumer.api_key)
    page = client.get(f"/console/contracts/agreements/{deal.agreement_id}")
    rows = re.findall(r'<tr data-entry="(\d+)">(.*?)</tr>', page.text, re.S)
    assert len(rows) == 5  # requested, agreed, verified, finalized; agreement concluded
    # The consumer is neither subject nor actor of the provider connector's entries: it sees
    # them, but their receipts are for the provider and oversight.
    assert all("/receipt" not in body for _, body in rows)
    _switch(client, deal.provider.api_key)
    page = client.get(f"/console/contracts/agreements/{deal.agreement_id}")
    rows = re.findall(r'<tr data-entry="(\d+)">(.*?)</tr>', page.text, re.S)
    assert all(f"/console/evidence/entries/{entry}/receipt" in body for entry, body in rows)
    assert 'id="verify-hint"' in page.text


def test_nav_lists_contracts_for_parties_and_oversight() -> None:
    labels = {role: [e.label for e in nav.entries_for(role, "active")] for role in nav.EVERYONE}
    for role in ("provider", "consumer", "operator", "regulator"):
        assert {"nav.negotiations", "nav.contracts"} <= set(labels[role]), role
    assert "nav.negotiations" not in labels["service_firm"]
    assert {r for r, found in labels.items() if "nav.evidence_log" in found} == {
        "operator",
        "regulator",
    }


# --- the provider approves or terminates ----------------------------------------------------


def test_provider_approves_a_request_in_manual_mode(platform: Platform, tmp_path: Path) -> None:
    deal = requested(platform)
    transport = RecordingTransport()
    with console_with_connector(
        platform, tmp_path, deal.provider, transport, negotiation_approval="manual"
    ) as client:
        sign_in(client, deal.provider.api_key)
        path = f"/console/contracts/negotiations/{deal.negotiation_id}"
        page = client.get(path)
        assert 'id="approve"' in page.text and 'id="terminate"' in page.text
        response = post_form(client, f"{path}/approve", csrf_of(page))
        assert response.status_code == 303 and response.headers["location"] == path
        after = client.get(path)
        assert "已批准" in _flash(after.text)
        assert 'id="state"><span class="badge badge-n-agreed">已签署' in after.text
        assert 'id="agreement-link"' in after.text and 'id="approve"' not in after.text
    assert _state(platform, deal.negotiation_id) == "AGREED"
    assert transport.types() == ["ContractAgreementMessage"]
    assert transport.sent[0].url.startswith(f"{CONSUMER_URL}/negotiations/")

    agreement = agreed_agreement(platform, deal.negotiation_id)
    with console_with_connector(platform, tmp_path, deal.provider, RecordingTransport()) as client:
        sign_in(client, deal.consumer.api_key)
        page = client.get(f"/console/contracts/agreements/{agreement}")
        assert "待会签" in page.text  # only the provider has signed so far
        assert page.text.count('data-verified="true"') == 1


def agreed_agreement(platform: Platform, negotiation_id: object) -> object:
    with platform.unit(write=False) as s:
        n = s.get(Negotiation, negotiation_id)
        assert n is not None and n.agreement_id is not None
        return n.agreement_id


def test_no_approve_button_in_auto_mode_or_for_the_consumer(
    platform: Platform, tmp_path: Path
) -> None:
    deal = requested(platform)
    with console_with_connector(platform, tmp_path, deal.provider, RecordingTransport()) as client:
        sign_in(client, deal.provider.api_key)
        page = client.get(f"/console/contracts/negotiations/{deal.negotiation_id}")
        assert 'id="approve"' not in page.text and "本平台自动批准" in page.text
        _switch(client, deal.consumer.api_key)
        page = client.get(f"/console/contracts/negotiations/{deal.negotiation_id}")
        assert 'id="approve"' not in page.text and 'id="terminate"' not in page.text
        response = post_form(
            client, f"/console/contracts/negotiations/{deal.negotiation_id}/approve", csrf_of(page)
        )
        assert "只有提供方可以批准" in _flash(client.get(response.headers["location"]).text)
    assert _state(platform, deal.negotiation_id) == "REQUESTED"


def test_provider_terminates_with_a_reason(platform: Platform, tmp_path: Path) -> None:
    deal = agreed(platform)
    transport = RecordingTransport()
    with console_with_connector(platform, tmp_path, deal.provider, transport) as client:
        sign_in(client, deal.provider.api_key)
        path = f"/console/contracts/negotiations/{deal.negotiation_id}"
        token = csrf_of(client.get(path))
        empty = post_form(client, f"{path}/terminate", token, reason="  ")
        assert _flash(client.get(empty.headers["location"]).text).startswith("error:")
        assert _state(platform, deal.negotiation_id) == "AGREED"

        done = post_form(client, f"{path}/terminate", token, reason="使用方资质材料不全")
        page = client.get(done.headers["location"])
        assert "已终止合约协商" in _flash(page.text)
        assert 'id="negotiation-error"' in page.text and "使用方资质材料不全" in page.text
        assert "已终止" in page.text and 'id="terminate"' not in page.text
    assert _state(platform, deal.negotiation_id) == "TERMINATED"
    assert transport.types() == ["ContractNegotiationTerminationMessage"]
    with platform.unit(write=False) as s:
        row = s.get(Agreement, deal.agreement_id)
        assert row is not None and row.status == "terminated"


def test_terminate_needs_the_connector(client: Client, platform: Platform) -> None:
    deal = requested(platform)
    sign_in(client, deal.provider.api_key)
    path = f"/console/contracts/negotiations/{deal.negotiation_id}"
    page = client.get(path)
    assert 'id="terminate"' not in page.text  # this console's connector is off
    assert 'data-code="dsp.connector_off"' in page.text and "本平台未配置连接器" in page.text
    response = post_form(client, f"{path}/terminate", csrf_of(page), reason="不再提供")
    assert _flash(client.get(response.headers["location"]).text).startswith("error:")
    assert _state(platform, deal.negotiation_id) == "REQUESTED"


# --- a consumer requests access from the product page ---------------------------------------


def test_request_access_without_a_connector_says_why(client: Client, platform: Platform) -> None:
    deal = parties(platform)
    sign_in(client, deal.consumer.api_key)
    path = f"/console/catalog/products/{deal.product_id}"
    page = client.get(path)
    card = re.search(
        r'<section class="card access-card" id="access">.*?</section>', page.text, re.S
    )
    assert card, page.text
    assert 'data-code="dsp.connector_off"' in card.group(0)
    assert "本平台未配置连接器" in card.group(0) and "单平台演示通常不配置连接器" in card.group(0)
    assert "docs/contracts.zh-CN.md" in card.group(0)
    english = client.get(path + "?lang=en")
    assert "This platform&#39;s connector is not configured" in english.text
    assert "docs/contracts.en.md" in english.text

    response = post_form(
        client, "/console/contracts/negotiations", csrf_of(page), product_id=str(deal.product_id)
    )
    assert response.status_code == 303 and response.headers["location"] == path
    assert _flash(client.get(path + "?lang=zh-CN").text) == "error: 本平台未配置连接器"
    with platform.unit(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Negotiation)) == 0

    _switch(client, deal.provider.api_key)  # no card on one's own product
    assert 'id="access"' not in client.get(path).text


def test_request_access_through_the_consumers_connector(platform: Platform, tmp_path: Path) -> None:
    deal = parties(platform)
    transport = RecordingTransport(answer={"providerPid": "urn:uuid:provider-side-pid"})
    with console_with_connector(platform, tmp_path, deal.consumer, transport) as client:
        sign_in(client, deal.consumer.api_key)
        page = client.get(f"/console/catalog/products/{deal.product_id}")
        assert 'id="access-problem"' not in page.text and 'id="request-access"' in page.text
        response = post_form(
            client,
            "/console/contracts/negotiations",
            csrf_of(page),
            product_id=str(deal.product_id),
        )
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith("/console/contracts/negotiations/")
        shown = client.get(location)
        assert "已向提供方发起合约协商" in _flash(shown.text)
        assert "已请求" in shown.text and "合约请求" in shown.text
        again = client.get(f"/console/catalog/products/{deal.product_id}")
        assert f'href="{location}"' in again.text  # the earlier request, linked
    sent = transport.sent
    assert [s.url for s in sent] == [f"{PROVIDER_URL}/negotiations/request"]
    offer = sent[0].body["offer"]
    assert offer["target"] == deal.dataset_id
    assert offer["permission"][0]["constraint"][0]["rightOperand"] == PURPOSE
    with platform.unit(write=False) as s:
        n = s.scalars(select(Negotiation)).one()
        assert (n.role, n.state, n.counterparty_id) == ("consumer", "REQUESTED", deal.provider.id)
        assert n.provider_pid == "urn:uuid:provider-side-pid"  # remembered after delivery


def test_a_connector_of_another_participant_cannot_ask(platform: Platform, tmp_path: Path) -> None:
    deal = parties(platform)
    with console_with_connector(platform, tmp_path, deal.provider, RecordingTransport()) as client:
        sign_in(client, deal.consumer.api_key)
        page = client.get(f"/console/catalog/products/{deal.product_id}")
        assert 'data-code="negotiation.not_connector_owner"' in page.text
        assert "本平台的连接器代表另一参与方" in page.text
        response = post_form(
            client,
            "/console/contracts/negotiations",
            csrf_of(page),
            product_id=str(deal.product_id),
        )
        assert "本连接器不代表该参与方" in _flash(client.get(response.headers["location"]).text)
