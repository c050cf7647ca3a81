"""Dataspace Protocol 2025-1 contract negotiation messages: building and parsing.

Shapes follow ``negotiation/*-schema.json`` of DSP 2025-1 (the test suite validates every
message built here against those schemas). Two Shuchang extensions ride along, allowed by
the schemas' open content model: ``shuchang:signatures`` on ContractAgreementMessage (the
provider's signature over the agreement) and ``shuchang:signature`` on
ContractAgreementVerificationMessage (the consumer's).
"""

from __future__ import annotations

import json
from typing import Any

from shuchang.canonical import canonical_json

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
STATES = ("REQUESTED", "OFFERED", "ACCEPTED", "AGREED", "VERIFIED", "FINALIZED", "TERMINATED")


class MessageInvalid(Exception):
    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def _message(
    kind: str, provider_pid: str | None, consumer_pid: str, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"@context": CONTEXT, "@type": kind}
    if provider_pid is not None:
        body["providerPid"] = provider_pid
    body["consumerPid"] = consumer_pid
    body.update(extra)
    return body


def negotiation(provider_pid: str, consumer_pid: str, state: str) -> dict[str, Any]:
    return _message("ContractNegotiation", provider_pid, consumer_pid, state=state)


def error(
    provider_pid: str | None, consumer_pid: str | None, code: str, reasons: list[str]
) -> dict[str, Any]:
    """The schema requires both pids; an error before a negotiation is known says ""."""
    return {
        "@context": CONTEXT,
        "@type": "ContractNegotiationError",
        "providerPid": provider_pid or "",
        "consumerPid": consumer_pid or "",
        "code": code,
        "reason": reasons,
    }


def request(
    consumer_pid: str, offer: dict[str, Any], callback: str, provider_pid: str | None = None
) -> dict[str, Any]:
    extra: dict[str, Any] = {"offer": offer}
    if provider_pid is None:
        extra["callbackAddress"] = callback
    return _message("ContractRequestMessage", provider_pid, consumer_pid, **extra)


def agreement(
    provider_pid: str,
    consumer_pid: str,
    agreement_: dict[str, Any],
    signatures: list[dict[str, Any]],
) -> dict[str, Any]:
    return _message(
        "ContractAgreementMessage",
        provider_pid,
        consumer_pid,
        agreement=agreement_,
        **{"shuchang:signatures": signatures},
    )


def verification(provider_pid: str, consumer_pid: str, signature: dict[str, Any]) -> dict[str, Any]:
    return _message(
        "ContractAgreementVerificationMessage",
        provider_pid,
        consumer_pid,
        **{"shuchang:signature": signature},
    )


def event(provider_pid: str, consumer_pid: str, event_type: str) -> dict[str, Any]:
    return _message(
        "ContractNegotiationEventMessage", provider_pid, consumer_pid, eventType=event_type
    )


def termination(
    provider_pid: str, consumer_pid: str, code: str, reasons: list[str]
) -> dict[str, Any]:
    return _message(
        "ContractNegotiationTerminationMessage",
        provider_pid,
        consumer_pid,
        code=code,
        reason=reasons,
    )


REQUIRED = {
    "ContractRequestMessage": ("consumerPid", "offer"),
    "ContractOfferMessage": ("providerPid", "offer"),  # an initial offer has no consumerPid
    "ContractAgreementMessage": ("providerPid", "consumerPid", "agreement"),
    "ContractAgreementVerificationMessage": ("providerPid", "consumerPid"),
    "ContractNegotiationEventMessage": ("providerPid", "consumerPid", "eventType"),
    "ContractNegotiationTerminationMessage": ("providerPid", "consumerPid"),
}


def parse(body: bytes, *expected: str) -> dict[str, Any]:
    """Decode a DSP message and check the envelope the schemas require."""
    try:
        message = json.loads(body)
        canonical_json(message)  # everything received may be hashed or signed later
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise MessageInvalid(
            f"Not JSON that can be canonicalised: {exc}",
            "报文不是可规范化的 JSON（不允许小数或超大整数）",
        ) from exc
    if not isinstance(message, dict):
        raise MessageInvalid("A DSP message is a JSON object", "协议报文须为 JSON 对象")
    kind = message.get("@type")
    if kind not in expected:
        raise MessageInvalid(
            f"Expected {' or '.join(expected)}, got {kind!r}", f"报文类型应为 {'/'.join(expected)}"
        )
    context = message.get("@context")
    if not isinstance(context, list) or CONTEXT[0] not in context:
        raise MessageInvalid(
            f"@context must include {CONTEXT[0]}", "@context 须包含 DSP 2025-1 上下文"
        )
    for name in REQUIRED[kind]:
        value = message.get(name)
        if value is None or (name.endswith("Pid") and not isinstance(value, str)):
            raise MessageInvalid(f"{kind} needs {name}", f"{kind} 缺少 {name}")
    for name in ("offer", "agreement"):
        if name in message and not isinstance(message[name], dict):
            raise MessageInvalid(f"{name} must be an object", f"{name} 须为对象")
    if kind == "ContractNegotiationEventMessage" and message["eventType"] not in (
        "ACCEPTED",
        "FINALIZED",
    ):
        raise MessageInvalid(
            "eventType is ACCEPTED or FINALIZED", "eventType 须为 ACCEPTED 或 FINALIZED"
        )
    return message
