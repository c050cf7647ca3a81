"""Transfer pages (传输过程) through HTTP, on SQLite and PostgreSQL.

Both parties' apps run on one database, joined by relays that deliver the transfer messages
signed over each app's DSP routes (``tests/transfers/transfers_support``); the agreement is
FINALIZED. The consumer starts a pull transfer from the agreement page of its console, sees it
listed and its timeline, suspends and resumes it with the buttons (the provider's side
follows), and never sees its token printed in full; a post without the form token, or a
button the state does not allow, changes nothing; another participant is told it does not
exist; oversight sees it read-only.
"""

from __future__ import annotations

import html
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "transfers"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
from contracts_support import register_parties
from transfers_support import Pair, open_pair, provider_view, row, token_of
from web_support import Client, csrf_of, post_form, sign_in

import factories
from shuchang.domains.participants import Actor
from shuchang.domains.transfers import views
from shuchang.platform import Platform
from shuchang.web import i18n
from shuchang.web.transfer_views import STATES, mask


@pytest.fixture
def pair(platform: Platform, tmp_path: Path) -> Iterator[Pair]:
    with open_pair(platform, tmp_path, register_parties(platform)) as joined:
        yield joined


def _flash(page: str) -> str:
    found = re.search(r'<div class="flash flash-(\w+)" role="status">([^<]*)</div>', page)
    assert found, "no flash message"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


def _consumer(pair: Pair) -> Client:
    client = pair.consumer.client
    sign_in(client, pair.consumer.local.member.api_key)
    return client


def _start(pair: Pair) -> tuple[Client, str]:
    """The consumer's console starts a pull transfer from the agreement page; its id."""
    client = _consumer(pair)
    page = client.get(f"/console/contracts/agreements/{pair.agreement_id}")
    assert 'id="start-transfer"' in page.text, page.text
    answer = post_form(
        client, "/console/transfers", csrf_of(page), agreement_id=str(pair.agreement_id)
    )
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/console/transfers/([0-9a-f-]{36})", answer.headers["location"])
    assert found, answer.headers["location"]
    return client, found.group(1)


def _act(client: Client, transfer_id: str, action: str, **fields: str) -> str:
    page = client.get(f"/console/transfers/{transfer_id}")
    answer = post_form(
        client, f"/console/transfers/{transfer_id}/{action}", csrf_of(page), **fields
    )
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"]).text


def test_the_consumer_starts_a_transfer_and_sees_it(pair: Pair) -> None:
    client, transfer_id = _start(pair)
    page = client.get(f"/console/transfers/{transfer_id}")
    assert _flash(page.text) == "ok: 已向提供方发起传输请求"
    assert 'data-state="STARTED"' in page.text and "传输中" in page.text
    assert f'href="/console/contracts/agreements/{pair.agreement_id}"' in page.text
    assert re.findall(r'data-message="(\w+)"', page.text) == [
        "TransferRequestMessage",
        "TransferStartMessage",
    ]
    assert "传输请求" in page.text and "拉取（HTTP）" in page.text
    assert "https://bureau.dongou.example.cn/data" in page.text
    assert 'id="suspend"' in page.text and 'id="complete"' in page.text
    assert 'id="resume"' not in page.text
    evidence = re.search(r'<table class="table" id="evidence">.*?</table>', page.text, re.S)
    assert evidence and "传输开始" in evidence.group(0)  # the evidence receipts table

    # The token is the consumer's; the page shows only a masked form of it.
    with pair.consumer.platform.unit(write=False) as s:
        actor = Actor(participant_id=pair.consumer.local.id, role="consumer")
        out = views.transfer_out(s, actor, views.load(s, actor, uuid.UUID(transfer_id)))
    token = token_of({"data_address": out.data_address})
    assert len(token) > 40
    assert token not in page.text and token[:20] not in page.text
    assert f"{token[:6]}…{token[-4:]}" in page.text
    assert f"shuchang transfers show {transfer_id}" in page.text  # where the holder gets it

    listing = client.get("/console/transfers")
    rows = re.findall(r'<tr data-id="([^"]+)" data-state="(\w+)" data-side="(\w+)"', listing.text)
    assert (transfer_id, "STARTED", "consumer") in rows
    assert ">数据传输</a>" in listing.text
    assert transfer_id in client.get("/console/transfers?state=STARTED").text
    assert transfer_id not in client.get("/console/transfers?state=SUSPENDED").text
    agreement = client.get(f"/console/contracts/agreements/{pair.agreement_id}")
    assert f'href="/console/transfers/{transfer_id}"' in agreement.text
    english = client.get(f"/console/transfers/{transfer_id}?lang=en")
    assert "Transfer start" in english.text and "Suspend" in english.text


def test_suspend_and_resume_with_the_buttons(pair: Pair) -> None:
    client, transfer_id = _start(pair)
    consumer_pid = row(pair.consumer.platform, transfer_id).consumer_pid

    page = _act(client, transfer_id, "suspend", reason="核对数据口径")
    assert _flash(page) == "ok: 已暂停传输，令牌即刻失效"
    assert row(pair.consumer.platform, transfer_id).state == "SUSPENDED"
    assert provider_view(pair, consumer_pid)["state"] == "SUSPENDED"
    assert 'id="resume"' in page and 'id="suspend"' not in page
    assert "已由使用方暂停" in page

    # The provider's console sees its side, with the consumer's reason, and may not resume.
    provider = pair.provider.client
    sign_in(provider, pair.provider.local.member.api_key)
    theirs = provider_view(pair, consumer_pid)["id"]
    page = provider.get(f"/console/transfers/{theirs}").text
    assert 'data-state="SUSPENDED"' in page and "核对数据口径" in page
    assert 'id="resume"' not in page and 'id="terminate"' in page

    page = _act(client, transfer_id, "resume")
    assert _flash(page) == "ok: 已请求提供方恢复传输"
    assert row(pair.consumer.platform, transfer_id).state == "STARTED"
    assert provider_view(pair, consumer_pid)["state"] == "STARTED"
    assert 'data-state="STARTED"' in page

    page = provider.get(f"/console/transfers/{theirs}?lang=en").text
    assert 'data-state="STARTED"' in page and 'id="terminate"' in page
    assert "Bearer" not in page and "eyJ" not in page  # the provider holds no token


def test_refusals_change_nothing(pair: Pair) -> None:
    client, transfer_id = _start(pair)
    before = row(pair.consumer.platform, transfer_id).updated_at

    missing = client.post(
        f"/console/transfers/{transfer_id}/suspend",
        data={"reason": "x"},
        follow_redirects=False,
    )
    assert missing.status_code == 403 and "console.csrf" in missing.text

    page = _act(client, transfer_id, "resume")  # not suspended: the domain refuses
    assert _flash(page).startswith("error: ")
    page = _act(client, transfer_id, "terminate", reason="")  # a reason is required
    assert _flash(page).startswith("error: ")
    assert row(pair.consumer.platform, transfer_id).state == "STARTED"
    assert row(pair.consumer.platform, transfer_id).updated_at == before


def test_others_are_told_it_does_not_exist_and_oversight_reads_only(
    pair: Pair, platform: Platform
) -> None:
    _, transfer_id = _start(pair)
    stranger = pair.consumer.client
    stranger.cookies.clear()
    sign_in(stranger, factories.participant(platform, roles=("consumer",)).api_key)
    page = stranger.get(f"/console/transfers/{transfer_id}")
    assert page.status_code == 404 and "传输过程不存在" in page.text
    assert transfer_id not in stranger.get("/console/transfers").text
    token = csrf_of(stranger.get("/console/transfers"))
    answer = post_form(stranger, f"/console/transfers/{transfer_id}/suspend", token, reason="x")
    assert _flash(stranger.get(answer.headers["location"]).text).startswith("error: ")
    assert row(pair.consumer.platform, transfer_id).state == "STARTED"

    stranger.cookies.clear()
    sign_in(stranger, factories.operator(platform).api_key)
    page = stranger.get(f"/console/transfers/{transfer_id}")
    assert page.status_code == 200 and 'data-state="STARTED"' in page.text
    assert 'id="transfer-actions"' not in page.text
    assert "eyJ" not in page.text  # oversight sees the token masked by the domain


def test_every_transfer_code_has_a_label_in_both_languages() -> None:
    keys = {f"tstate.{state}" for state in STATES}
    keys |= {f"ttype.HttpData-{kind}" for kind in ("PULL", "PUSH")}
    for action in ("suspend", "resume", "complete", "terminate"):
        keys |= {f"transfer_do.{action}", f"transfer.{action}_ok"}
    keys |= {f"transfer_reason.{action}" for action in ("suspend", "terminate")}
    for language in i18n.LANGUAGES:
        assert not keys - set(i18n.MESSAGES[language]), language


def test_a_token_is_masked_to_a_recognisable_stub() -> None:
    token = "eyJhbGciOiJFZERTQSJ9.payload-payload-payload.signature-xyz1"
    assert mask(token) == "eyJhbG…xyz1"
    assert mask("short-secret-value") == "•" * 8
