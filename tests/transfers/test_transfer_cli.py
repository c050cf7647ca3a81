"""`shuchang transfers …` as the consumer's operator uses it: start, list, show, suspend,
terminate — against the test database, with the connector's messages relayed to the
provider's app (the same route real HTTP would take)."""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from contracts_support import CONSUMER_URL, PROVIDER_URL
from transfers_support import Pair, Relay, provider_view

from shuchang import clikit
from shuchang.cli import cli
from shuchang.domains.transfers import cli as transfers_cli
from shuchang.platform import Platform
from shuchang.settings import Settings


@pytest.fixture
def run(pair: Pair, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Invoke ``shuchang`` as the consumer's connector; messages go to the provider's app."""
    relay = Relay(routes={PROVIDER_URL: pair.provider.client})

    class RelayedPlatform(Platform):
        @classmethod
        def build(cls, settings: Settings) -> Platform:
            return dataclasses.replace(Platform.build(settings), transport=relay)

    monkeypatch.setattr(clikit, "Platform", RelayedPlatform)
    monkeypatch.setattr(transfers_cli, "Platform", RelayedPlatform)
    key = tmp_path / "consumer-cli.key"
    key.write_text(base64.b64encode(pair.consumer.local.signer.seed()).decode() + "\n")
    env = {
        "SHUCHANG_DATABASE_URL": settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": settings.log_key_file,
        "SHUCHANG_CONNECTOR_PARTICIPANT": str(pair.consumer.local.id),
        "SHUCHANG_CONNECTOR_KEY_FILE": str(key),
        "SHUCHANG_CONNECTOR_URL": CONSUMER_URL,
    }

    def invoke(*args: str) -> Result:
        return CliRunner(env=env).invoke(cli, ["transfers", *args])

    return invoke


def ok(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def fails_with(result: Result, code: str) -> dict[str, Any]:
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Traceback" not in result.output
    problem: dict[str, Any] = json.loads(result.stderr)
    assert problem["code"] == code, problem
    assert problem["message_zh"] and problem["message_en"]
    return problem


def test_the_consumer_runs_a_transfer_from_the_shell(pair: Pair, run: Any) -> None:
    started = ok(run("start", "--agreement", str(pair.agreement_id)))
    assert started["state"] == "STARTED", started
    assert started["role"] == "consumer" and started["transfer_type"] == "HttpData-PULL"
    assert started["data_address"]["endpoint"].endswith("/data")
    listed = ok(run("list", "--state", "STARTED"))
    assert started["id"] in [t["id"] for t in listed]
    assert ok(run("show", started["id"]))["consumer_pid"] == started["consumer_pid"]
    refreshed = ok(run("refresh", started["id"]))
    assert refreshed["data_address"] != started["data_address"]
    suspended = ok(run("suspend", started["id"], "--reason", "核对数据口径"))
    assert suspended["state"] == "SUSPENDED"
    assert provider_view(pair, started["consumer_pid"])["state"] == "SUSPENDED"
    ended = ok(run("terminate", started["id"], "--reason", "不再需要"))
    assert ended["state"] == "TERMINATED"
    assert provider_view(pair, started["consumer_pid"])["state"] == "TERMINATED"
    fails_with(run("resume", started["id"]), "dsp.invalid_transition")


def test_the_shell_says_what_is_wrong(pair: Pair, run: Any) -> None:
    fails_with(run("start", "--agreement", str(uuid.uuid4())), "dsp.agreement_unknown")
    fails_with(
        run("start", "--agreement", str(pair.agreement_id), "--type", "push"),
        "transfer.data_address_invalid",
    )
    fails_with(
        run(
            "start",
            "--agreement",
            str(pair.agreement_id),
            "--type",
            "push",
            "--endpoint",
            "ftp://bank.example.cn/in",
        ),
        "transfer.data_address_invalid",
    )
    fails_with(run("show", str(uuid.uuid4())), "transfer.not_found")


def test_a_push_transfer_from_the_shell_carries_its_properties(pair: Pair, run: Any) -> None:
    started = ok(
        run(
            "start",
            "--agreement",
            str(pair.agreement_id),
            "--type",
            "push",
            "--endpoint",
            "https://bank.dongou.example.cn/inbox",
            "--property",
            "authorization=Bearer sink=key",
            "--property",
            "format=jsonl",
        )
    )
    assert started["transfer_type"] == "HttpData-PUSH" and started["state"] == "STARTED"
    props = {p["name"]: p["value"] for p in started["data_address"]["endpointProperties"]}
    assert props == {"authorization": "Bearer sink=key", "format": "jsonl"}
    fails_with(
        run("start", "--agreement", str(pair.agreement_id), "--property", "format=csv"),
        "transfer.data_address_invalid",
    )
