"""The `shuchang` command as an operator uses it: verify-id, participants, issuers, demo.

Commands run through click's CliRunner with ``SHUCHANG_DATABASE_URL`` pointing at the test
database, exactly as an operator's shell would; their output is read back as JSON.
"""

from __future__ import annotations

import base64
import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select

import factories
from shuchang.cli import cli
from shuchang.models import metadata
from shuchang.settings import Settings

FIXTURE = (
    Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "ids" / "check_digits.json"
)
VECTORS: dict[str, list[dict[str, str]]] = json.loads(FIXTURE.read_text(encoding="utf-8"))
VALID = [(v["code"], "uscc") for v in VECTORS["uscc_valid"]] + [
    (v["code"], "resident_id") for v in VECTORS["resident_id_valid"]
]
INVALID = [v["code"] for v in VECTORS["uscc_invalid"] + VECTORS["resident_id_invalid"]]


def run(settings: Settings | None, *args: str | Path, **env: str) -> Result:
    environment = {f"SHUCHANG_{k.upper()}": v for k, v in env.items()}
    if settings is not None:
        environment.setdefault("SHUCHANG_DATABASE_URL", settings.database_url)
        environment.setdefault("SHUCHANG_LOG_KEY_FILE", settings.log_key_file)
    return CliRunner(env=environment).invoke(cli, [str(a) for a in args])


def ok(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def fails_with(result: Result, code: str, field: str | None = None) -> dict[str, Any]:
    """Exit 1 with the problem JSON on stderr, and no traceback anywhere."""
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    problem: dict[str, Any] = json.loads(result.stderr)
    assert problem["code"] == code, problem
    assert problem["message_zh"] and problem["message_en"]
    if field is not None:
        assert problem["field"] == field
    assert result.stdout == ""
    return problem


def counts(settings: Settings) -> dict[str, int]:
    from shuchang.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.scalar(select(func.count()).select_from(t)) or 0
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()


# --- verify-id (no database) ---------------------------------------------------------------


def test_verify_id_prints_one_json_line_per_code_and_exits_0_when_all_valid() -> None:
    result = run(None, "verify-id", *(code for code, _ in VALID))

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"code": code, "kind": kind, "valid": True, "reason": None} for code, kind in VALID
    ]


@pytest.mark.parametrize("code", INVALID)
def test_verify_id_exits_1_on_an_invalid_code(code: str) -> None:
    result = run(None, "verify-id", code)

    assert result.exit_code == 1
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(line) == {"code", "kind", "valid", "reason"}
    assert line["code"] == code and line["valid"] is False
    assert line["reason"].startswith(("uscc.", "resident_id.", "format."))


def test_verify_id_reports_every_code_even_after_an_invalid_one() -> None:
    codes = [VALID[0][0], INVALID[0], VALID[-1][0], "12345"]

    result = run(None, "verify-id", *codes)

    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["code"] for line in lines] == codes
    assert [line["valid"] for line in lines] == [True, False, True, False]
    assert lines[3] == {"code": "12345", "kind": None, "valid": False, "reason": "format.length"}


def test_verify_id_needs_at_least_one_code() -> None:
    result = run(None, "verify-id")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- participants ---------------------------------------------------------------------------


def application(tmp_path: Path, **overrides: Any) -> Path:
    data = {
        "kind": "enterprise",
        "name": f"命令行测试{uuid.uuid4().hex[:6]}有限公司",
        "identifier": factories.uscc(),
        "roles": ["provider", "consumer"],
        **overrides,
    }
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_register_list_show_and_decide(settings: Settings, tmp_path: Path) -> None:
    registration = ok(run(settings, "participants", "register", application(tmp_path)))
    pid = registration["participant"]["id"]
    assert registration["participant"]["status"] == "pending"  # standard rule, no credential
    assert registration["api_key"].startswith("sck_")

    shown = ok(run(settings, "participants", "show", pid))
    assert [s["step"] for s in shown["verification"]] == ["identifier", "duplicate", "credential"]

    assert (
        ok(run(settings, "participants", "approve", pid, "--reason", "材料齐全"))["status"]
        == "active"
    )
    assert ok(run(settings, "participants", "suspend", pid))["status"] == "suspended"
    assert ok(run(settings, "participants", "reinstate", pid))["status"] == "active"
    assert ok(run(settings, "participants", "revoke", pid))["status"] == "revoked"


def test_list_shows_active_participants_newest_first(settings: Settings, tmp_path: Path) -> None:
    ids = [
        ok(run(settings, "participants", "register", application(tmp_path), review_rule="lenient"))[
            "participant"
        ]["id"]
        for _ in range(3)
    ]
    listed = ok(run(settings, "participants", "list", "--limit", "2"))
    assert [p["id"] for p in listed] == ids[::-1][:2]


def test_list_finds_applicants_waiting_for_review(settings: Settings, tmp_path: Path) -> None:
    pid = ok(run(settings, "participants", "register", application(tmp_path)))["participant"]["id"]
    listed = ok(run(settings, "participants", "list", "--status", "pending"))
    assert [p["id"] for p in listed] == [pid]


def test_settings_from_the_environment_decide(settings: Settings, tmp_path: Path) -> None:
    lenient = run(
        settings, "participants", "register", application(tmp_path), review_rule="lenient"
    )
    assert ok(lenient)["participant"]["status"] == "active"
    strict = run(settings, "participants", "register", application(tmp_path), review_rule="strict")
    assert ok(strict)["participant"]["status"] == "rejected"
    assert ok(strict)["api_key"] is None


def test_register_reads_stdin(settings: Settings, tmp_path: Path) -> None:
    body = application(tmp_path).read_text(encoding="utf-8")
    result = CliRunner(env={"SHUCHANG_DATABASE_URL": settings.database_url}).invoke(
        cli, ["participants", "register", "-"], input=body
    )
    assert ok(result)["participant"]["name"] == json.loads(body)["name"]


def test_the_cli_may_register_an_operator(settings: Settings, tmp_path: Path) -> None:
    result = run(
        settings,
        "participants",
        "register",
        application(
            tmp_path, kind="government", identifier=factories.uscc("government"), roles=["operator"]
        ),
        review_rule="lenient",
    )
    assert ok(result)["participant"]["roles"] == ["operator"]


BAD_FILES = [
    (b'{"kind": "enterprise",', "request.malformed_json", None),
    (b"\xff\xfe not even text", "request.malformed_json", None),
    (
        b'{"kind": "enterprise", "name": "x", "identifier": "y", "roles": "consumer"}',
        "request.invalid_field",
        "roles",
    ),
    (
        b'{"kind": "enterprise", "name": "x", "identifier": "y", "roles": ["consumer"], "age": 3}',
        "request.invalid_field",
        None,
    ),
    (
        b'{"kind": "enterprise", "identifier": "y", "roles": ["consumer"]}',
        "request.invalid_field",
        None,
    ),
    (
        b'{"kind": "enterprise", "name": "  ", "identifier": "y", "roles": ["consumer"]}',
        "participant.name_blank",
        "name",
    ),
]


def test_register_bad_file_is_a_problem_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    ok(run(settings, "participants", "list"))  # migrate first, so counts compare like for like
    before = counts(settings)
    for n, (content, code, field) in enumerate(BAD_FILES):
        path = tmp_path / f"bad{n}.json"
        path.write_bytes(content)
        fails_with(run(settings, "participants", "register", path), code, field)
    assert counts(settings) == before


def test_illegal_transition_is_a_problem_and_changes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    pid = ok(
        run(settings, "participants", "register", application(tmp_path), review_rule="lenient")
    )["participant"]["id"]
    before = counts(settings)

    problem = fails_with(
        run(settings, "participants", "reinstate", pid), "participant.invalid_transition", "action"
    )

    assert problem["status"] == 409
    assert counts(settings) == before
    assert ok(run(settings, "participants", "show", pid))["participant"]["status"] == "active"


def test_show_unknown_participant(settings: Settings) -> None:
    fails_with(run(settings, "participants", "show", str(uuid.uuid4())), "participant.not_found")


def test_show_needs_a_uuid(settings: Settings) -> None:
    result = run(settings, "participants", "show", "not-a-uuid")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_api_key_for_a_held_role_only(settings: Settings, tmp_path: Path) -> None:
    pid = ok(
        run(settings, "participants", "register", application(tmp_path), review_rule="lenient")
    )["participant"]["id"]

    issued = ok(
        run(settings, "participants", "api-key", pid, "--role", "provider", "--label", "etl")
    )
    assert issued["secret"].startswith("sck_") and issued["key"]["role"] == "provider"
    fails_with(
        run(settings, "participants", "api-key", pid, "--role", "regulator"),
        "api_key.role_not_held",
        "role",
    )


def test_add_connector(settings: Settings, tmp_path: Path) -> None:
    pid = ok(run(settings, "participants", "register", application(tmp_path)))["participant"]["id"]
    public_key = base64.b64encode(factories.Ed25519Signer().public_key()).decode()

    connector = ok(
        run(
            settings,
            "participants",
            "add-connector",
            pid,
            "--url",
            "https://c.example.cn",
            "--public-key",
            public_key,
        )
    )
    assert connector["url"] == "https://c.example.cn"
    fails_with(
        run(
            settings,
            "participants",
            "add-connector",
            pid,
            "--url",
            "gopher://x",
            "--public-key",
            public_key,
        ),
        "request.invalid_field",
        "url",
    )
    fails_with(
        run(
            settings,
            "participants",
            "add-connector",
            pid,
            "--url",
            "https://c.cn",
            "--public-key",
            "AAAA",
        ),
        "key.invalid",
        "public_key",
    )


# --- issuers --------------------------------------------------------------------------------


def test_issuer_keygen_add_issue_and_revoke(settings: Settings, tmp_path: Path) -> None:
    key_file = tmp_path / "issuer.key"
    keygen = run(settings, "participants", "issuers", "keygen", key_file)
    assert keygen.exit_code == 0
    public_key = keygen.stdout.strip()
    assert len(base64.b64decode(public_key, validate=True)) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    added = ok(
        run(
            settings,
            "participants",
            "issuers",
            "add",
            "--id",
            "wz-samr",
            "--name",
            "温州市电子营业执照",
            "--public-key",
            public_key,
        )
    )
    assert added == {**added, "id": "wz-samr", "status": "active", "algorithm": "ed25519"}
    assert [i["id"] for i in ok(run(settings, "participants", "issuers", "list"))] == ["wz-samr"]

    def credential_for(app: Path) -> Path:
        data = json.loads(app.read_text(encoding="utf-8"))
        issued = ok(
            run(settings, "participants", "issuers", "issue", "--key", key_file,
                "--issuer", "wz-samr", "--identifier", data["identifier"],
                "--name", data["name"], "--days", "30")
        )  # fmt: skip
        data["credential"] = issued
        app.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return app

    first = ok(
        run(
            settings,
            "participants",
            "register",
            credential_for(application(tmp_path)),
            review_rule="strict",
        )
    )
    assert first["participant"]["status"] == "active"

    # The issuer withdraws one credential: a registration presenting it is refused.
    withdrawn = credential_for(application(tmp_path))
    credential_id = json.loads(withdrawn.read_text(encoding="utf-8"))["credential"]["id"]
    revoked = run(
        settings,
        "participants",
        "issuers",
        "revoke-credential",
        "wz-samr",
        credential_id,
        "--reason",
        "注销",
    )
    assert revoked.exit_code == 0
    refused = ok(run(settings, "participants", "register", withdrawn, review_rule="strict"))
    assert refused["participant"]["decision_reason"] == "credential.revoked"

    # The operator stops trusting the issuer: its credentials no longer count.
    assert ok(run(settings, "participants", "issuers", "revoke", "wz-samr"))["status"] == "revoked"
    late = ok(
        run(
            settings,
            "participants",
            "register",
            credential_for(application(tmp_path)),
            review_rule="strict",
        )
    )
    assert late["participant"]["decision_reason"] == "credential.issuer_revoked"


def test_issuer_errors_are_problems(settings: Settings, tmp_path: Path) -> None:
    fails_with(
        run(
            settings,
            "participants",
            "issuers",
            "add",
            "--id",
            "x",
            "--name",
            "x",
            "--public-key",
            "AAAA",
        ),
        "key.invalid",
        "public_key",
    )
    fails_with(
        run(
            settings,
            "participants",
            "issuers",
            "add",
            "--id",
            "bad id!",
            "--name",
            "x",
            "--public-key",
            "AAAA",
        ),
        "request.invalid_field",
        "id",
    )
    fails_with(run(settings, "participants", "issuers", "revoke", "nobody"), "issuer.not_found")
    fails_with(
        run(settings, "participants", "issuers", "revoke-credential", "nobody", "urn:x"),
        "issuer.not_found",
    )
    public_key = base64.b64encode(factories.Ed25519Signer().public_key()).decode()
    args = [
        "participants",
        "issuers",
        "add",
        "--id",
        "twice",
        "--name",
        "x",
        "--public-key",
        public_key,
    ]
    ok(run(settings, *args))
    fails_with(run(settings, *args), "issuer.duplicate", "id")


def test_issue_with_a_file_that_is_not_a_key(settings: Settings, tmp_path: Path) -> None:
    not_a_key = tmp_path / "note.txt"
    not_a_key.write_text("hello\n")
    result = run(
        settings, "participants", "issuers", "issue", "--key", not_a_key, "--issuer", "x",
        "--identifier", factories.uscc(), "--name", "x",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "not an issuer key" in result.output and "Traceback" not in result.output


def test_a_bad_setting_is_a_usage_error(settings: Settings) -> None:
    result = run(settings, "participants", "list", review_rule="sometimes")
    assert result.exit_code == 2
    assert "SHUCHANG_REVIEW_RULE" in result.output and "Traceback" not in result.output


# --- database connections ---------------------------------------------------------------------


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    """Every engine the commands create, kept here (so none is garbage-collected with an open
    connection mid-suite) and disposed at the end."""
    import shuchang.db
    import shuchang.platform

    created: list[Engine] = []
    real = shuchang.db.make_engine

    def recording(url: str, **kwargs: Any) -> Engine:
        engine = real(url, **kwargs)
        created.append(engine)
        return engine

    monkeypatch.setattr(shuchang.db, "make_engine", recording)
    monkeypatch.setattr(shuchang.platform, "make_engine", recording)
    yield created
    for engine in created:
        engine.dispose()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("participants", "list"), id="participants list"),
        pytest.param(("participants", "issuers", "list"), id="issuers list"),
        pytest.param(("db", "upgrade"), id="db upgrade"),
        pytest.param(("demo",), id="demo"),
    ],
)
def test_commands_leave_no_connection_open(
    settings: Settings,
    engines: list[Engine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(settings, *args).exit_code == 0
    assert engines
    assert [e.pool.checkedin() for e in engines] == [0] * len(engines)


# --- demo -------------------------------------------------------------------------------------


def test_demo_seeds_once_and_a_second_run_changes_nothing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engines: list[Engine]
) -> None:
    monkeypatch.chdir(tmp_path)  # on PostgreSQL the demo writes its key files here

    first = run(settings, "demo")
    assert first.exit_code == 0, (first.output, first.exception)
    after_first = counts(settings)
    second = run(settings, "demo")

    assert second.exit_code == 0, second.output
    assert second.stdout == first.stdout  # the same keys, printed again
    assert counts(settings) == after_first
    keys = [line.split()[-1] for line in first.stdout.splitlines()[1:]]
    live = [k for k in keys if k.startswith("sck_")]
    assert len(live) >= 10 and len(set(live)) == len(live)
    assert after_first["participants"] == len(keys)
    # The printed keys work against the API of the same database.
    from litestar.testing import TestClient

    from shuchang.app import create_app

    with TestClient(create_app(settings)) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {live[0]}"})
        assert me.status_code == 200
        assert me.json()["participant"]["status"] == "active"
