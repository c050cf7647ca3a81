"""The agreement's transfers, usage chart data, push job and manifest in the console (HTTP, on
SQLite and PostgreSQL).

Both apps run on one database (the relays of ``tests/transfers``); the provider's gateway and
pusher run in-process (``tests/dataplane/push_support``), so the records the pages show are
real usage records of real pulls and pushes.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1] / "dataplane"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "transfers"))
from datasets_support import BLOB, data_root
from push_support import Push, open_push
from transfers_support import detail, token_of
from web_support import Client, csrf_of, post_form, sign_in

import factories
from shuchang.platform import Platform
from shuchang.web.transfer_views import mask


def _signed_in(client: Client, api_key: str | None) -> Client:
    sign_in(client, api_key)
    return client


def _consumer(push: Push) -> Client:
    side = push.plane.pair.consumer
    return _signed_in(side.client, side.local.member.api_key)


def _provider(push: Push) -> Client:
    side = push.plane.pair.provider
    return _signed_in(side.client, side.local.member.api_key)


def test_the_agreement_lists_its_transfers_with_usage_and_the_chart_data(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB]) as push:
        assert push.plane.get("/data").status_code == 200  # one pull
        push.run_until_done()  # one push (the part and the manifest)
        size = (data_root(push.plane) / "mes" / "scan.bin").stat().st_size
        client = _consumer(push)
        agreement = push.plane.pair.agreement_id
        page = client.get(f"/console/contracts/agreements/{agreement}").text
        rows = re.findall(
            r'<tr data-id="([^"]+)" data-state="(\w+)"[^>]*data-type="([\w-]+)"', page
        )
        # one database holds both connectors' sides: each transfer is listed once per side
        assert sorted((state, kind) for _, state, kind in rows) == [
            ("COMPLETED", "HttpData-PUSH"),
            ("COMPLETED", "HttpData-PUSH"),
            ("STARTED", "HttpData-PULL"),
            ("STARTED", "HttpData-PULL"),
        ]
        assert page.count(f'data-bytes="{size}"') == 1  # the pull, metered at the provider
        assert 'id="start-push-form"' in page and 'id="usage-chart"' in page
        assert "/console/static/echarts.min.js" in page

        usage = client.get(f"/console/contracts/agreements/{agreement}/usage.json")
        assert usage.status_code == 200 and usage.headers["cache-control"] == "no-store"
        body = usage.json()
        assert body["totals"]["requests"] == 3 and body["totals"]["denied"] == 0
        assert body["totals"]["bytes"] > 2 * size  # the pull, the push and the manifest
        assert sum(h["permitted"] for h in body["hours"]) == 3
        assert sum(d["permitted"] for d in body["days"]) == 3

        stranger = factories.participant(push.platform)
        other = _signed_in(push.plane.pair.provider.client, stranger.api_key)
        assert other.get(f"/console/contracts/agreements/{agreement}/usage.json").status_code == 404


def test_the_push_job_and_the_manifest_with_digests_are_shown_to_the_provider(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB]) as push:
        push.sink.refuse = 1
        push.run(push.pusher(base=60))  # the first attempt fails; the next is a minute away
        client = _provider(push)
        page = client.get(f"/console/transfers/{push.provider()['id']}").text
        assert 'id="push-job" data-state="pending" data-attempts="1"' in page
        assert "HTTP 503" in page and 'id="push-next"' in page
        blob = (data_root(push.plane) / "mes" / "scan.bin").read_bytes()
        assert f'data-algorithm="sha-256">{hashlib.sha256(blob).hexdigest()}<' in page
        assert 'data-algorithm="sm3">' in page


def test_the_consumer_refreshes_its_token_and_never_sees_it_in_full(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB]) as push:
        client = _consumer(push)
        pull = push.plane.consumer_view
        page = client.get(f"/console/transfers/{pull['id']}")
        assert 'id="refresh"' in page.text and push.plane.token not in page.text
        answer = post_form(client, f"/console/transfers/{pull['id']}/refresh", csrf_of(page))
        assert answer.status_code == 303
        after = client.get(answer.headers["location"]).text
        fresh = token_of(detail(push.plane.pair.consumer, pull["id"]))
        assert fresh != push.plane.token and fresh not in after and mask(fresh) in after
        assert "已从提供方获得新令牌" in after


def test_a_row_button_on_the_agreement_page_suspends_and_comes_back(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB]) as push:
        client = _consumer(push)
        agreement = push.plane.pair.agreement_id
        back = f"/console/contracts/agreements/{agreement}"
        page = client.get(back)
        pull = push.plane.consumer_view["id"]
        assert f'id="suspend-{pull}"' in page.text
        answer = post_form(
            client,
            f"/console/transfers/{pull}/suspend",
            csrf_of(page),
            reason="核对用途",
            back=back,
        )
        assert answer.status_code == 303 and answer.headers["location"] == back
        assert detail(push.plane.pair.consumer, pull)["state"] == "SUSPENDED"
        again = client.get(back).text
        assert f'id="resume-{pull}"' in again  # the consumer suspended it: it may resume


def test_a_push_transfer_starts_from_the_agreement_page(platform: Platform, tmp_path: Path) -> None:
    with open_push(platform, tmp_path, [BLOB]) as push:
        client = _consumer(push)
        back = f"/console/contracts/agreements/{push.plane.pair.agreement_id}"
        page = client.get(back)
        bad = post_form(
            client,
            "/console/transfers",
            csrf_of(page),
            agreement_id=str(push.plane.pair.agreement_id),
            transfer_type="push",
            endpoint="ftp://bank.example.cn/in",
        )
        assert bad.status_code == 303 and bad.headers["location"] == back
        assert 'class="flash flash-error"' in client.get(back).text
        before = len(re.findall(r"<tr data-id=", client.get(back).text))  # nothing was made
        answer = post_form(
            client,
            "/console/transfers",
            csrf_of(page),
            agreement_id=str(push.plane.pair.agreement_id),
            transfer_type="push",
            endpoint=push.endpoint,
            authorization="Bearer another-sink-key",
        )
        assert answer.status_code == 303, answer.text
        transfer_id = answer.headers["location"].rsplit("/", 1)[-1]
        mine = detail(push.plane.pair.consumer, transfer_id)
        assert mine["transfer_type"] == "HttpData-PUSH" and mine["state"] == "STARTED"
        assert mine["data_address"]["endpoint"] == push.endpoint
        assert len(re.findall(r"<tr data-id=", client.get(back).text)) == before + 2  # both sides
