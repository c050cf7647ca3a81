"""Evidence pages (存证溯源) through HTTP, on SQLite and PostgreSQL.

An object's evidence shows each entry's place in the log and links to its receipt; the entry
page shows the receipt, and the receipt and leaf downloaded from the console verify offline
against the log's key. Only the entry's subject, its actor and oversight may open it. The
log page (operator, regulator) runs the audit: clean, then — after a DBA edits a leaf behind
the log's back — the finding, at its index.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from contract_pages_support import console_settings, sequence_and_publish
from sqlalchemy import Connection, Engine, select, text
from web_support import Client, csrf_of, post_form, sign_in

import factories
from shuchang.domains.evidence.models import LogLeaf, OutboxEntry, PendingEntry
from shuchang.domains.evidence.tlog.offline import verify_receipt
from shuchang.platform import Platform
from shuchang.settings import Settings


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return console_settings(db_url, tmp_path)


def registration_entry(platform: Platform, member: factories.Member) -> int:
    with platform.unit(write=False) as s:
        found = s.scalars(
            select(OutboxEntry.id).where(
                OutboxEntry.subject == f"participant:{member.id}",
                OutboxEntry.kind == "participant.registered",
            )
        ).one()
    return int(found)


def queued(platform: Platform) -> int:
    with platform.unit(write=False) as s:
        return len(s.scalars(select(PendingEntry.outbox_id)).all())


def _switch(client: Client, member: factories.Member) -> None:
    client.cookies.clear()
    sign_in(client, member.api_key)


# --- an object's evidence, one entry, its receipt ---------------------------------------------


def test_a_pending_entry_says_so_and_has_no_receipt_yet(client: Client, platform: Platform) -> None:
    member = factories.participant(platform, name="东瓯存证测试有限公司")
    entry = registration_entry(platform, member)
    sign_in(client, member.api_key)

    own = client.get(f"/console/participants/{member.id}")
    row = re.search(rf'<tr data-entry="{entry}">.*?</tr>', own.text, re.S)
    assert row and "待定序" in row.group(0) and "/receipt" not in row.group(0)

    page = client.get(f"/console/evidence/entries/{entry}")
    assert page.status_code == 200
    assert 'id="position">待定序' in page.text and 'id="no-receipt"' in page.text
    refused = client.get(f"/console/evidence/entries/{entry}/receipt")
    assert refused.status_code == 409
    assert "该存证尚未写入已签名的检查点" in refused.text
    assert client.get(f"/console/evidence/entries/{entry}/leaf").status_code == 409


def test_receipt_and_leaf_downloaded_from_the_console_verify_offline(
    client: Client, platform: Platform
) -> None:
    member = factories.participant(platform, name="东瓯存证测试有限公司")
    entry = registration_entry(platform, member)
    size = sequence_and_publish(platform)
    with platform.unit(write=False) as s:
        index = s.scalar(select(LogLeaf.idx).where(LogLeaf.outbox_id == entry))
    assert index is not None and index < size
    sign_in(client, member.api_key)

    own = client.get(f"/console/participants/{member.id}")
    row = re.search(rf'<tr data-entry="{entry}">.*?</tr>', own.text, re.S)
    assert row, own.text
    assert f"#{index}<" in row.group(0)
    assert f'href="/console/evidence/entries/{entry}/receipt"' in row.group(0)
    hint = re.search(r"--receipt evidence-(\d+)\.tlog-proof evidence-\1\.leaf", own.text)
    assert hint and int(hint.group(1)) >= entry  # the latest entry with a receipt

    page = client.get(f"/console/evidence/entries/{entry}")
    assert page.status_code == 200
    assert "接入登记" in page.text and "东瓯存证测试有限公司" in page.text
    assert f'id="leaf-index">{index}<' in page.text
    shown = re.search(r'<pre class="note-text" id="receipt">(.*?)</pre>', page.text, re.S)
    assert shown and "c2sp.org/tlog-proof@v1" in shown.group(1)
    assert (
        f"shuchang tlog verify --vkey log.vkey --receipt evidence-{entry}.tlog-proof "
        f"evidence-{entry}.leaf"
    ) in page.text

    receipt = client.get(f"/console/evidence/entries/{entry}/receipt")
    assert receipt.status_code == 200
    assert receipt.headers["content-type"].startswith("text/plain")
    disposition = receipt.headers["content-disposition"]
    assert disposition == f'attachment; filename="evidence-{entry}.tlog-proof"'
    assert html.unescape(shown.group(1)) == receipt.text
    leaf = client.get(f"/console/evidence/entries/{entry}/leaf")
    assert leaf.headers["content-disposition"].endswith(f'filename="evidence-{entry}.leaf"')

    key, origin = platform.log_signer.verifier(), platform.settings.log_origin
    checkpoint, at = verify_receipt(receipt.content, leaf.content, [key], origin)
    assert (at, checkpoint.size) == (index, size)
    with pytest.raises(ValueError):  # the receipt proves this leaf and no other
        verify_receipt(
            receipt.content,
            leaf.content.replace(b"registered", b"status_changed"),
            [platform.log_signer.verifier()],
        )


def test_only_subject_actor_and_oversight_open_an_entry(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    other = factories.participant(platform)
    regulator = factories.regulator(platform)
    entry = registration_entry(platform, member)
    sequence_and_publish(platform)

    sign_in(client, other.api_key)
    for suffix in ("", "/receipt", "/leaf"):
        refused = client.get(f"/console/evidence/entries/{entry}{suffix}")
        assert refused.status_code == 404, suffix
        assert "存证记录不存在" in refused.text
    assert client.get("/console/evidence/entries/999999").status_code == 404

    _switch(client, regulator)
    assert client.get(f"/console/evidence/entries/{entry}").status_code == 200
    assert client.get(f"/console/evidence/entries/{entry}/receipt").status_code == 200


def test_signed_out_the_receipt_asks_to_sign_in(client: Client, platform: Platform) -> None:
    member = factories.participant(platform)
    entry = registration_entry(platform, member)
    response = client.get(f"/console/evidence/entries/{entry}/receipt", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")


# --- the log page: status, publish, audit ---------------------------------------------------


def test_log_page_shows_the_log_to_oversight_only(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    regulator = factories.regulator(platform)
    consumer = factories.participant(platform)
    size = sequence_and_publish(platform)
    factories.participant(platform)  # its entries wait for the sequencer
    waiting = queued(platform)
    assert waiting > 0

    sign_in(client, operator.api_key)
    page = client.get("/console/evidence")
    assert page.status_code == 200
    assert ">存证日志</a>" in page.text
    assert f'id="origin">{platform.settings.log_origin}<' in page.text
    assert f'value="{platform.log_signer.verifier().vkey}"' in page.text
    assert f'id="tree-size">{size}<' in page.text
    assert f'id="queued">{waiting}<' in page.text
    assert f'id="checkpoint-size">{size}<' in page.text
    assert 'id="cosignatures">0<' in page.text
    note = re.search(r'<pre class="note-text" id="checkpoint">(.*?)</pre>', page.text, re.S)
    assert note and note.group(1).startswith(platform.settings.log_origin + "\n" + str(size))
    assert re.search(r'id="published-at">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<', page.text)
    assert 'id="publish"' in page.text and 'id="run-audit"' in page.text

    english = client.get("/console/evidence?lang=en")
    assert "Evidence log" in english.text and "Run audit" in english.text

    _switch(client, regulator)
    page = client.get("/console/evidence")
    assert page.status_code == 200 and 'id="run-audit"' in page.text
    assert 'id="publish"' not in page.text  # publishing is the operator's

    _switch(client, consumer)
    assert ">存证日志</a>" not in client.get("/console/").text
    assert client.get("/console/evidence").status_code == 403


def test_operator_publishes_a_checkpoint_now(client: Client, platform: Platform) -> None:
    operator = factories.operator(platform)
    regulator = factories.regulator(platform)
    sign_in(client, regulator.api_key)
    token = csrf_of(client.get("/console/evidence"))
    assert post_form(client, "/console/evidence/checkpoints", token).status_code == 403

    _switch(client, operator)
    waiting = queued(platform)
    before = client.get("/console/evidence")
    assert f'id="queued">{waiting}<' in before.text and 'id="checkpoint-size">—<' in before.text
    response = post_form(client, "/console/evidence/checkpoints", csrf_of(before))
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert f"已定序并发布检查点：日志共 {waiting} 条" in page.text
    assert 'id="queued">0<' in page.text and f'id="checkpoint-size">{waiting}<' in page.text


@contextmanager
def tampering(engine: Engine, table: str) -> Iterator[Connection]:
    """A DBA with the owner's rights: the append-only trigger of ``table`` dropped, the change
    committed, the trigger put back (the PostgreSQL test database is shared by the run)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        if sqlite:
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
        else:
            conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        with engine.begin() as conn:
            if sqlite:
                for verb in ("UPDATE", "DELETE"):
                    conn.execute(
                        text(
                            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                        )
                    )
            else:
                conn.execute(
                    text(
                        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                        "FOR EACH ROW EXECUTE FUNCTION evidence_append_only()"
                    )
                )


def _audit(client: Client) -> str:
    token = csrf_of(client.get("/console/evidence"))
    response = post_form(client, "/console/evidence/audit", token)
    assert response.status_code == 200
    return response.text


def test_audit_is_clean_then_names_an_edited_leaf(client: Client, platform: Platform) -> None:
    regulator = factories.regulator(platform)
    for _ in range(3):
        factories.participant(platform)
    size = sequence_and_publish(platform)
    sign_in(client, regulator.api_key)

    clean = _audit(client)
    assert 'data-ok="true"' in clean
    assert f"审计通过：{size} 条叶子、1 个检查点全部一致" in clean

    with platform.unit(write=False) as s:
        rows = s.execute(select(LogLeaf.idx, LogLeaf.data).order_by(LogLeaf.idx)).all()
    index, data = next((i, d) for i, d in rows[1:] if b'"participant.registered"' in d)
    with tampering(platform.engine, "tlog_leaves") as conn:
        conn.execute(
            text("UPDATE tlog_leaves SET data = :d WHERE idx = :i"),
            {"d": data.replace(b'"participant.registered"', b'"participant.rejected"'), "i": index},
        )

    found = _audit(client)
    assert 'data-ok="false"' in found and "审计未通过" in found
    assert f'<tr data-kind="altered" data-index="{index}">' in found
    assert "被篡改" in found and f"#{index}<" in found
    english = client.get("/console/evidence?lang=en")  # the language sticks for the next audit
    assert english.status_code == 200
    found_en = _audit(client)
    assert "Audit FAILED" in found_en and "Altered" in found_en
    assert "root_mismatch" in found_en  # and the signed checkpoint no longer reproduces


def test_audit_needs_the_form_token_and_oversight(client: Client, platform: Platform) -> None:
    consumer = factories.participant(platform)
    sign_in(client, consumer.api_key)
    token = csrf_of(client.get("/console/"))
    assert post_form(client, "/console/evidence/audit", token).status_code == 403
    _switch(client, factories.operator(platform))
    assert client.post("/console/evidence/audit", data={}).status_code == 403
