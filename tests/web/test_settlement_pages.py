"""Settlement pages (交易结算) through HTTP, on SQLite and PostgreSQL.

The operator settles a month from the console, opens the batch with its statements and
transfers, downloads a statement as CSV and reconciles; a consumer sees its own invoices,
orders, statement and voucher and nothing of others'; the regulator reads but cannot run.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1] / "settlement"))
from settlement_support import PERIOD, Region, agreement, product, region, seal, set_rules, usage
from web_support import Client, csrf_of, post_form, sign_in

import factories
from shuchang.platform import Platform


def _flash(page: str) -> str:
    found = re.search(r'<div class="flash flash-(\w+)" role="status">([^<]*)</div>', page)
    assert found, "no flash message"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


def _month(platform: Platform) -> Region:
    r = region(platform)
    set_rules(r)
    a = agreement(
        platform,
        product(platform, r.tax.id, {"model": "per_call", "amount_fen": 200}),
        r.tax,
        r.bank,
    )
    usage(platform, a, r.bank.id, 25)
    seal(platform)
    return r


def test_the_operator_settles_a_month_and_reconciles_it_from_the_console(
    client: Client, platform: Platform
) -> None:
    r = _month(platform)
    sign_in(client, r.bureau.api_key)
    page = client.get("/console/settlement")
    assert page.status_code == 200 and 'id="run-form"' in page.text
    assert "尚无已清分的月份" in page.text

    done = post_form(client, "/console/settlement/run", csrf_of(page), period=PERIOD)
    assert (
        done.status_code == 303
        and done.headers["location"] == f"/console/settlement/batches/{PERIOD}"
    )
    batch = client.get(done.headers["location"])
    assert "已结算" in _flash(batch.text)
    assert 'id="statements"' in batch.text and "¥53.00" in batch.text  # 25 × 2 yuan + 6 % VAT
    assert batch.text.count('data-status="settled"') == 3  # the bank's collection, two payouts

    again = post_form(client, "/console/settlement/run", csrf_of(batch), period=PERIOD)
    assert "不能重复结算" in _flash(client.get(again.headers["location"]).text)

    sheet = client.get(f"/console/settlement/batches/{PERIOD}/statements/{r.tax.id}/csv")
    assert sheet.status_code == 200
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0]["role"] == "provider" and rows[-1]["role"] == "total_due"

    checked = post_form(client, f"/console/settlement/batches/{PERIOD}/reconcile", csrf_of(batch))
    report = client.get(checked.headers["location"])
    assert "对账一致" in _flash(report.text)
    assert 'data-code="usage_not_billed"' not in report.text

    overview = client.get("/console/settlement?lang=en")
    chart = re.search(
        r'<script type="application/json" id="monthly-data">(.*?)</script>', overview.text
    )
    assert chart is not None
    assert json.loads(chart.group(1)) == {
        "periods": [PERIOD],
        "gross": [53.0],
        "net": [50.0],
        "calls": [25],
    }
    assert f'data-period="{PERIOD}" data-status="settled"' in overview.text

    records = client.get(f"/console/settlement/records?period={PERIOD}")
    assert records.text.count('data-kind="') == 2
    link = re.search(r'href="(/console/settlement/records/[^"]+/download)"', records.text)
    assert link is not None
    document = client.get(link.group(1)).json()
    assert document["type"] in ("ShuchangTransactionFiling", "ShuchangTransactionVoucher")


def test_a_consumer_sees_its_own_invoices_statement_and_voucher_only(
    client: Client, platform: Platform
) -> None:
    r = _month(platform)
    sign_in(client, r.bureau.api_key)
    post_form(
        client, "/console/settlement/run", csrf_of(client.get("/console/settlement")), period=PERIOD
    )
    client.post("/console/logout", data={"_csrf": csrf_of(client.get("/console/settlement"))})

    sign_in(client, r.bank.api_key)
    home = client.get("/console/settlement")
    assert 'id="run-form"' not in home.text and 'id="monthly-chart"' not in home.text
    assert "¥53.00" in home.text
    orders = client.get("/console/settlement/orders")
    assert orders.text.count("data-agreement=") == 1
    batch = client.get(f"/console/settlement/batches/{PERIOD}")
    assert batch.text.count("data-participant=") == 1 and str(r.bank.id) in batch.text
    assert (
        client.get(f"/console/settlement/batches/{PERIOD}/statements/{r.tax.id}/csv").status_code
        == 404
    )
    records = client.get("/console/settlement/records")
    assert (
        records.text.count('data-kind="voucher"') == 1 and 'data-kind="filing"' not in records.text
    )
    refused = post_form(client, "/console/settlement/run", csrf_of(home), period=PERIOD)
    assert "运营者" in _flash(client.get(refused.headers["location"]).text)

    stranger = factories.participant(platform, roles=("consumer",))
    sign_in(client, stranger.api_key)
    assert client.get(f"/console/settlement/batches/{PERIOD}").status_code == 404


def test_a_post_without_the_form_token_changes_nothing(client: Client, platform: Platform) -> None:
    r = _month(platform)
    sign_in(client, r.bureau.api_key)
    answer = client.post("/console/settlement/run", data={"period": PERIOD}, follow_redirects=False)
    assert answer.status_code == 403
    assert 'id="batches"' not in client.get("/console/settlement").text
