"""Conformance of transfer messages with the DSP 2025-1 artifacts, and the state machine.

The spec's examples pass its schemas (with the known ``#definitions`` defect mended at load
time, see shared/fixtures/dsp/README.md) and our parser; every builder's output passes the
schema of its type. The transition table is exactly the DSP one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from dsp_support import DSP
from transfers_support import PULL, PUSH, schema_errors

from shuchang.domains.transfers import messages
from shuchang.domains.transfers.process import TRANSITIONS

TRANSFER = DSP / "transfer"
PPID, CPID = "urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab", "urn:uuid:32541fe6-c580-409e"
EXAMPLES = {
    "transfer-completion-message.json": "TransferCompletionMessage",
    "transfer-error.json": "TransferError",
    "transfer-process.json": "TransferProcess",
    "transfer-request-message.json": "TransferRequestMessage",
    "transfer-start-message.json": "TransferStartMessage",
    "transfer-suspension-message.json": "TransferSuspensionMessage",
    "transfer-termination-message.json": "TransferTerminationMessage",
}
RECEIVED = set(messages.REQUIRED) - {messages.TOKEN_REQUEST}


def example(name: str) -> Any:
    return json.loads((TRANSFER / "example" / name).read_text(encoding="utf-8"))


def test_the_transfer_folder_has_the_examples_we_check() -> None:
    assert sorted(p.name for p in (TRANSFER / "example").glob("*.json")) == sorted(EXAMPLES)


@pytest.mark.parametrize(("name", "kind"), sorted(EXAMPLES.items()))
def test_every_transfer_example_passes_its_schema(name: str, kind: str) -> None:
    body = example(name)
    assert body["@type"] == kind
    assert schema_errors(body) == []


@pytest.mark.parametrize(
    ("name", "kind"), sorted((n, k) for n, k in EXAMPLES.items() if k in RECEIVED)
)
def test_every_example_we_receive_passes_our_parser(name: str, kind: str) -> None:
    parsed = messages.parse(json.dumps(example(name)).encode(), kind)
    assert parsed["@type"] == kind


def test_the_example_data_address_is_an_http_endpoint() -> None:
    address = example("transfer-start-message.json")["dataAddress"]
    assert schema_errors(address) == []
    assert messages.endpoint_of(address) == "http://example.com"
    assert messages.properties_of(address)["authorization"] == "TOKEN-ABCDEFG"


def test_every_builder_makes_a_valid_message() -> None:
    address = messages.data_address("https://bureau.example.cn/data", {"authorization": "t"})
    built = [
        messages.process(PPID, CPID, "STARTED"),
        messages.error(PPID, CPID, "dsp.invalid_transition", ["en", "中文"]),
        messages.error(None, None, "dsp.agreement_unknown", ["en", "中文"]),
        messages.request(CPID, "urn:uuid:e8dc8655", PULL, "https://bank.example.cn/dsp"),
        messages.request(CPID, "urn:uuid:e8dc8655", PUSH, "https://bank.example.cn/dsp", address),
        messages.start(PPID, CPID, address),
        messages.start(PPID, CPID),
        messages.completion(PPID, CPID),
        messages.with_reason("TransferSuspensionMessage", PPID, CPID, "s", ["暂停"]),
        messages.with_reason("TransferTerminationMessage", PPID, CPID, "t", ["终止"]),
        address,
        messages.data_address("https://bureau.example.cn/data", {}),
    ]
    for body in built:
        assert schema_errors(body) == [], body


def test_the_termination_schema_defect_does_not_loosen_our_parser() -> None:
    # The published termination schema has no top-level "required"; we require the pids.
    body = {"@context": messages.CONTEXT, "@type": "TransferTerminationMessage"}
    with pytest.raises(messages.MessageInvalid):
        messages.parse(json.dumps(body).encode(), "TransferTerminationMessage")


STATES = ("REQUESTED", "STARTED", "SUSPENDED", "COMPLETED", "TERMINATED")
LEGAL = {
    ("TransferStartMessage", "REQUESTED"): "STARTED",
    ("TransferStartMessage", "SUSPENDED"): "STARTED",
    ("TransferSuspensionMessage", "STARTED"): "SUSPENDED",
    ("TransferCompletionMessage", "STARTED"): "COMPLETED",
    ("TransferTerminationMessage", "REQUESTED"): "TERMINATED",
    ("TransferTerminationMessage", "STARTED"): "TERMINATED",
    ("TransferTerminationMessage", "SUSPENDED"): "TERMINATED",
}


def test_the_transition_table_is_the_dsp_state_machine() -> None:
    table = {k: v for k, v in TRANSITIONS.items() if k[1] != "INITIAL"}
    assert table == LEGAL
    assert TRANSITIONS[("TransferRequestMessage", "INITIAL")] == "REQUESTED"
    assert set(messages.STATES) == set(STATES)


@pytest.mark.parametrize("state", ["COMPLETED", "TERMINATED"])
def test_nothing_leaves_a_final_state(state: str) -> None:
    assert not [k for k in TRANSITIONS if k[1] == state]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://bank.example.cn/in",
        "http://10.0.0.8:8080/sink?x=1",
        "https://[2001:db8::1]/in",
    ],
)
def test_push_endpoints_that_are_accepted(endpoint: str) -> None:
    assert messages.endpoint_of({"endpoint": endpoint}) == endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "bank.example.cn/in",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user@bank.example.cn/",
        "https://bank.example.cn:70000/",
        "https://[::1/",
        "https://bank.example.cn/in box",
        "https://bank.example.cn/" + "x" * 500,
        42,
    ],
)
def test_push_endpoints_that_are_refused(endpoint: object) -> None:
    with pytest.raises(messages.MessageInvalid):
        messages.endpoint_of({"endpoint": endpoint})
