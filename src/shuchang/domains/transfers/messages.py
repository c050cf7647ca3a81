"""Dataspace Protocol 2025-1 transfer process messages: building and parsing.

Shapes follow ``transfer/*-schema.json`` of DSP 2025-1 (the test suite validates every message
built here, sent or answered, against those schemas). Known defects of those files, handled
here on purpose:

* ``TransferError`` requires both pids, even when the message it answers named no known
  process: we say ``""`` for a pid we do not know.
* ``TransferTerminationMessage``'s schema forgets its own ``required`` list (and three transfer
  schemas reference ``transfer-schema.json#definitions/…`` without the slash, so strict
  validators lose the inherited one): we require ``@type``, ``providerPid`` and
  ``consumerPid`` as for every other message after the request.
* ``DataAddress.endpoint`` is optional in the schema; a pull start and a push request without
  an endpoint are useless, so :func:`endpoint_of` demands it where it matters.

Shuchang's own message, ``shuchang:TokenRequest`` (refresh a pull token), rides beside them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from shuchang.canonical import canonical_json

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
STATES = ("REQUESTED", "STARTED", "SUSPENDED", "COMPLETED", "TERMINATED")
PULL, PUSH = "HttpData-PULL", "HttpData-PUSH"
FORMATS = (PULL, PUSH)
HTTP_ENDPOINT = "https://w3id.org/idsa/v4.1/HTTP"
TOKEN_REQUEST = "shuchang:TokenRequest"  # noqa: S105 - a message type, not a secret
MAX_URL = 500


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
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def process(provider_pid: str, consumer_pid: str, state: str) -> dict[str, Any]:
    return _message("TransferProcess", provider_pid, consumer_pid, state=state)


def error(
    provider_pid: str | None, consumer_pid: str | None, code: str, reasons: list[str]
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": "TransferError",
        "providerPid": provider_pid or "",
        "consumerPid": consumer_pid or "",
        "code": code,
        "reason": reasons,
    }


def data_address(endpoint: str, properties: dict[str, str]) -> dict[str, Any]:
    address: dict[str, Any] = {
        "@type": "DataAddress",
        "endpointType": HTTP_ENDPOINT,
        "endpoint": endpoint,
    }
    if properties:
        address["endpointProperties"] = [
            {"@type": "EndpointProperty", "name": k, "value": v} for k, v in properties.items()
        ]
    return address


def properties_of(address: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in address.get("endpointProperties", [])}


def request(
    consumer_pid: str,
    agreement_id: str,
    format_: str,
    callback: str,
    address: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return _message(
        "TransferRequestMessage",
        None,
        consumer_pid,
        agreementId=agreement_id,
        format=format_,
        dataAddress=address,
        callbackAddress=callback,
    )


def start(
    provider_pid: str, consumer_pid: str, address: dict[str, Any] | None = None
) -> dict[str, Any]:
    return _message("TransferStartMessage", provider_pid, consumer_pid, dataAddress=address)


def completion(provider_pid: str, consumer_pid: str) -> dict[str, Any]:
    return _message("TransferCompletionMessage", provider_pid, consumer_pid)


def with_reason(
    kind: str, provider_pid: str, consumer_pid: str, code: str, reasons: list[str]
) -> dict[str, Any]:
    """A TransferSuspensionMessage or TransferTerminationMessage."""
    return _message(kind, provider_pid, consumer_pid, code=code, reason=reasons)


def token_request(provider_pid: str, consumer_pid: str) -> dict[str, Any]:
    return _message(TOKEN_REQUEST, provider_pid, consumer_pid)


REQUIRED = {
    "TransferRequestMessage": ("consumerPid", "agreementId", "format", "callbackAddress"),
    "TransferStartMessage": ("providerPid", "consumerPid"),
    "TransferCompletionMessage": ("providerPid", "consumerPid"),
    "TransferSuspensionMessage": ("providerPid", "consumerPid"),
    "TransferTerminationMessage": ("providerPid", "consumerPid"),
    TOKEN_REQUEST: ("providerPid", "consumerPid"),
}


def _decode(body: bytes) -> dict[str, Any]:
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
    return message


def parse(body: bytes, *expected: str) -> dict[str, Any]:
    """Decode a DSP transfer message and check what its schema requires."""
    message = _decode(body)
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
        if not isinstance(message.get(name), str) or not message[name]:
            raise MessageInvalid(f"{kind} needs {name} (a string)", f"{kind} 缺少 {name}（字符串）")
    if "code" in message and not isinstance(message["code"], str):
        raise MessageInvalid("code must be a string", "code 须为字符串")
    reason = message.get("reason")
    if reason is not None and (not isinstance(reason, list) or not reason):
        raise MessageInvalid("reason must be a non-empty array", "reason 须为非空数组")
    if "dataAddress" in message:
        check_address(message["dataAddress"])
    return message


def check_address(address: Any) -> None:
    """The DataAddress schema: ``@type``, ``endpointType``, string-valued properties."""
    if not isinstance(address, dict) or address.get("@type") != "DataAddress":
        raise MessageInvalid("dataAddress must be a DataAddress", "dataAddress 须为 DataAddress")
    if not isinstance(address.get("endpointType"), str):
        raise MessageInvalid("dataAddress needs endpointType", "dataAddress 缺少 endpointType")
    if "endpoint" in address and not isinstance(address["endpoint"], str):
        raise MessageInvalid("endpoint must be a string", "endpoint 须为字符串")
    props = address.get("endpointProperties", [{"@type": "EndpointProperty"}])
    if not isinstance(props, list) or not props:
        raise MessageInvalid(
            "endpointProperties must be a non-empty array", "endpointProperties 须为非空数组"
        )
    for p in address.get("endpointProperties", []):
        if not (
            isinstance(p, dict)
            and p.get("@type") == "EndpointProperty"
            and isinstance(p.get("name"), str)
            and isinstance(p.get("value"), str)
        ):
            raise MessageInvalid(
                "Each endpoint property is an EndpointProperty with a string name and value",
                "每个 endpointProperties 条目须为含字符串 name 与 value 的 EndpointProperty",
            )


def endpoint_of(address: dict[str, Any]) -> str:
    """The address's endpoint if it is an absolute http(s) URL with a host (and no userinfo)."""
    endpoint = address.get("endpoint")
    try:
        parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
        host = parts.hostname if parts else None
        _ = parts.port if parts else None  # a malformed port raises here
    except ValueError:
        parts = host = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not host
        or parts.username is not None
        or len(str(endpoint)) > MAX_URL
        or any(c.isspace() or ord(c) < 32 for c in str(endpoint))  # noqa: PLR2004
    ):
        raise MessageInvalid(
            "dataAddress.endpoint must be an absolute http(s) URL (no credentials, ≤ 500 chars)",
            "dataAddress.endpoint 须为绝对的 http(s) 地址（不含用户信息，不超过 500 字符）",
        )
    return str(endpoint)
