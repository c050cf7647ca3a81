"""The cryptography of PSI sessions, apart from who sends what: identifier normalisation and
the ECDH protocol of ``openmined-psi`` (the default backend).

ECDH PSI (Pinkas–Schneider–Zohner style, as implemented by openmined-psi 2.x): the
*receiver* (PSI client) sends its items hashed to the curve and blinded with its key; the
*sender* (PSI server) answers with those points blinded again by its key (the *response*) and
its own items blinded by its key, packed in a Golomb-compressed set (the *setup*, with a
false-positive rate of :data:`FPR` for the receiver's set size). The receiver unblinds and
looks up. With ``reveal_intersection`` off the sender sorts the response, so the receiver
learns only the size; with it on, the receiver learns which of its items are in the
intersection. Neither side learns anything else beyond the other's set size.

Identifiers are normalised the same way on both sides before they are hashed (a USCC in
lower case would otherwise never meet its upper-case twin); values that do not normalise
are dropped and counted.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

FPR = 1e-9
Normalization = Literal["uscc", "resident_id", "mobile", "email", "text"]
NORMALIZATIONS: tuple[Normalization, ...] = ("uscc", "resident_id", "mobile", "email", "text")

_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_RESIDENT = re.compile(r"\d{17}[\dX]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _plain(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def _uscc(value: str) -> str | None:
    v = _plain(value).upper().replace(" ", "")
    return v if _USCC.fullmatch(v) else None


def _resident(value: str) -> str | None:
    v = _plain(value).upper().replace(" ", "")
    return v if _RESIDENT.fullmatch(v) else None


def _mobile(value: str) -> str | None:
    digits = re.sub(r"\D", "", _plain(value))
    digits = digits[2:] if len(digits) == 13 and digits.startswith("86") else digits  # noqa: PLR2004
    return digits if _MOBILE.fullmatch(digits) else None


def _email(value: str) -> str | None:
    v = _plain(value).lower()
    return v if _EMAIL.fullmatch(v) else None


def _text(value: str) -> str | None:
    v = _plain(value)
    return v or None


NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    "uscc": _uscc,
    "resident_id": _resident,
    "mobile": _mobile,
    "email": _email,
    "text": _text,
}


@dataclass(frozen=True)
class IdentifierSet:
    """Distinct normalised identifiers in a stable order, and how many inputs were dropped."""

    items: list[str]
    rejected: int

    @property
    def digest(self) -> str:
        """SHA-256 over the sorted set, one identifier per line (for evidence: the set itself
        is never recorded)."""
        h = hashlib.sha256()
        for item in sorted(self.items):
            h.update(item.encode() + b"\n")
        return h.hexdigest()


def normalise(values: Iterable[Any], normalization: str) -> IdentifierSet:
    rule = NORMALIZERS[normalization]
    seen: dict[str, None] = {}
    rejected = 0
    for raw in values:
        value = rule(str(raw)) if raw is not None else None
        if value is None:
            rejected += 1
        else:
            seen.setdefault(value, None)
    return IdentifierSet(list(seen), rejected)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


class ProtocolError(Exception):
    """A peer's PSI payload is malformed or does not fit the session."""


def _psi() -> Any:
    import private_set_intersection.python as psi  # type: ignore[import-untyped]

    return psi


@dataclass(frozen=True)
class ClientState:
    """What the receiver keeps between its request and the sender's answer (never sent)."""

    key: bytes
    reveal: bool


def client_request(items: list[str], reveal: bool) -> tuple[ClientState, bytes]:
    psi = _psi()
    client = psi.client.CreateWithNewKey(reveal)
    request = client.CreateRequest(items)
    return ClientState(client.GetPrivateKeyBytes(), reveal), request.SerializeToString()


def request_size(raw: bytes, reveal: bool) -> int:
    """Distinct blinded items in a receiver's request; its reveal flag must match the mode
    (a receiver that asks for members where only the size was agreed is refused)."""
    psi = _psi()
    request = psi.Request()
    try:
        request.ParseFromString(raw)
    except Exception as exc:  # protobuf's DecodeError has no stable import path
        raise ProtocolError(f"not a PSI request: {exc}") from exc
    if request.reveal_intersection != reveal:
        raise ProtocolError("the request's reveal_intersection does not match the session mode")
    return len(set(request.encrypted_elements))


def server_answer(
    items: list[str], reveal: bool, raw_request: bytes, client_size: int
) -> tuple[bytes, bytes]:
    """The sender's setup (its blinded items, GCS) and response (the request blinded again)."""
    psi = _psi()
    server = psi.server.CreateWithNewKey(reveal)
    request = psi.Request()
    request.ParseFromString(raw_request)
    setup = server.CreateSetupMessage(FPR, max(client_size, 1), items, psi.DataStructure.GCS)
    response = server.ProcessRequest(request)
    return setup.SerializeToString(), response.SerializeToString()


def client_finish(
    state: ClientState, raw_setup: bytes, raw_response: bytes, items: list[str]
) -> tuple[int, list[str] | None]:
    """The intersection size, and its members when the session reveals them."""
    psi = _psi()
    client = psi.client.CreateFromKey(state.key, state.reveal)
    setup, response = psi.ServerSetup(), psi.Response()
    try:
        setup.ParseFromString(raw_setup)
        response.ParseFromString(raw_response)
        if not state.reveal:
            return int(client.GetIntersectionSize(setup, response)), None
        indices = client.GetIntersection(setup, response)
    except Exception as exc:
        raise ProtocolError(f"the sender's answer cannot be used: {exc}") from exc
    members = sorted(items[i] for i in indices)
    return len(members), members
