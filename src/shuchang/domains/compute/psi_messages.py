"""The messages of a PSI session between two connectors: building and parsing.

They ride beside the Dataspace Protocol's messages (same JSON-LD context, ``shuchang:``
types), are signed the same way (RFC 9421, Ed25519, a nonce per request) and carry both
parties' process ids like DSP transfer messages::

    consumer                                                 provider
    PsiRequestMessage (agreement, mode, set size,  ───────►  checks agreement and limits
      [receiver request in cardinality/intersection])
                  ◄───────  PsiResponseMessage (setup + response)   [cardinality, intersection]
    PsiResultMessage (size)  ───────►

                      ◄───────  PsiClientRequestMessage (receiver request) [filter]
    PsiResponseMessage (setup + response)  ───────►
                      ◄───────  PsiResultMessage (size; the members stay at the provider)

    either side: PsiTerminationMessage (code, reason)

Payloads (``request``, ``setup``, ``response``) are base64 of openmined-psi's protobufs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shuchang.canonical import canonical_json

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
REQUEST = "shuchang:PsiRequestMessage"
CLIENT_REQUEST = "shuchang:PsiClientRequestMessage"
RESPONSE = "shuchang:PsiResponseMessage"
RESULT = "shuchang:PsiResultMessage"
TERMINATION = "shuchang:PsiTerminationMessage"
SESSION = "shuchang:PsiSession"
ERROR = "shuchang:PsiError"
VERBS = {
    "client-request": CLIENT_REQUEST,
    "response": RESPONSE,
    "result": RESULT,
    "termination": TERMINATION,
}
MODES = ("cardinality", "intersection", "filter")
PROTOCOLS = ("ecdh", "rr22")
LINK = re.compile(r"[A-Za-z0-9.-]{1,80}:\d{2,5}")
STRINGS = {
    REQUEST: ("consumerPid", "agreementId", "mode", "protocol", "normalization", "callbackAddress"),
    CLIENT_REQUEST: ("providerPid", "consumerPid", "request"),
    RESPONSE: ("providerPid", "consumerPid", "setup", "response"),
    RESULT: ("providerPid", "consumerPid"),
    TERMINATION: ("providerPid", "consumerPid", "code"),
}
INTEGERS = {
    REQUEST: ("setSize",),
    CLIENT_REQUEST: ("setSize",),
    RESPONSE: ("setSize",),
    RESULT: ("intersectionSize",),
    TERMINATION: (),
}


class MessageInvalid(Exception):
    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def message(kind: str, provider_pid: str | None, consumer_pid: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"@context": CONTEXT, "@type": kind}
    if provider_pid is not None:
        body["providerPid"] = provider_pid
    body["consumerPid"] = consumer_pid
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def session(provider_pid: str, consumer_pid: str, state: str) -> dict[str, Any]:
    return message(SESSION, provider_pid, consumer_pid, state=state)


def error(
    provider_pid: str | None, consumer_pid: str | None, code: str, reasons: list[str]
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": ERROR,
        "providerPid": provider_pid or "",
        "consumerPid": consumer_pid or "",
        "code": code,
        "reason": reasons,
    }


def parse(body: bytes, expected: str) -> dict[str, Any]:
    """Decode a PSI message of type ``expected`` and check its members' types."""
    try:
        msg = json.loads(body)
        canonical_json(msg)  # every message's digest goes to the evidence log
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise MessageInvalid(
            f"Not JSON that can be canonicalised: {exc}", "报文不是可规范化的 JSON"
        ) from exc
    if not isinstance(msg, dict) or msg.get("@type") != expected:
        raise MessageInvalid(f"Expected a {expected}", f"报文类型应为 {expected}")
    context = msg.get("@context")
    if not isinstance(context, list) or CONTEXT[0] not in context:
        raise MessageInvalid(
            f"@context must include {CONTEXT[0]}", "@context 须包含 DSP 2025-1 上下文"
        )
    for name in STRINGS[expected]:
        if not isinstance(msg.get(name), str) or not msg[name]:
            raise MessageInvalid(
                f"{expected} needs {name} (a string)", f"{expected} 缺少 {name}（字符串）"
            )
    for name in INTEGERS[expected]:
        value = msg.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise MessageInvalid(f"{name} must be a non-negative integer", f"{name} 须为非负整数")
    if expected == REQUEST and (msg["mode"] not in MODES or msg["protocol"] not in PROTOCOLS):
        raise MessageInvalid(
            f"mode is one of {', '.join(MODES)}; protocol one of {', '.join(PROTOCOLS)}",
            "mode 或 protocol 取值不受支持",
        )
    if expected == REQUEST and msg["protocol"] == "rr22":
        link = msg.get("linkAddress")
        if not isinstance(link, str) or not LINK.fullmatch(link):
            raise MessageInvalid(
                "An RR22 request names its linkAddress (host:port)",
                "RR22 请求须给出 linkAddress（主机:端口）",
            )
    return msg
