"""Digests of data files (文件摘要): SHA-256 and SM3, computed once per file content.

A content is a file's path in the data root, its size and its modification time in
nanoseconds: when any of them changes the digests are computed again (providers replace
files atomically — write elsewhere, then rename — so an open download keeps reading the
content it started with). The first computation of a content is stored in
``dataplane_file_digests`` together with an evidence entry ``dataplane.file_digest`` in the
same transaction, so a consumer can later prove what the provider published for the bytes it
received; later requests read the row (and an in-process cache in front of it).

Both digests come from one pass over the file in 1 MiB blocks (in a worker thread; one
computation per content at a time, concurrent requests for it wait). SM3 (GB/T 32905) is
``cryptography``'s when its OpenSSL has it, else ``gmssl``'s (pure Python, slow).

HTTP carries them as RFC 9530 ``Repr-Digest: sha-256=:<base64>:, sm3=:<base64>:``. ``sm3``
is not in IANA's registry of HTTP digest algorithms; RFC 9530 lets a recipient ignore keys
it does not know, so standard clients check ``sha-256`` and ours check both.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.dataplane.delivery_models import FileDigest

KIND = "dataplane.file_digest"
BLOCK = 1024 * 1024
CACHE_SIZE = 1024
Unit = Callable[[], AbstractContextManager[Session]]


class _Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


class _CryptographySM3:
    def __init__(self) -> None:
        from cryptography.hazmat.primitives import hashes

        self._h = hashes.Hash(hashes.SM3())

    def update(self, data: bytes, /) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return self._h.finalize().hex()


class _GmsslSM3:
    def __init__(self) -> None:
        self._data = bytearray()

    def update(self, data: bytes, /) -> None:
        self._data.extend(data)

    def hexdigest(self) -> str:
        from gmssl import sm3  # type: ignore[import-untyped]

        return str(sm3.sm3_hash(list(self._data)))


def _has_openssl_sm3() -> bool:
    try:
        _CryptographySM3().update(b"")
    except Exception:  # UnsupportedAlgorithm, or an OpenSSL built without SM3
        return False
    return True


_SM3_NATIVE = _has_openssl_sm3()


def new_sm3() -> _Hash:
    """An SM3 hash: OpenSSL's through ``cryptography`` when available, else ``gmssl``."""
    return _CryptographySM3() if _SM3_NATIVE else _GmsslSM3()


def sm3_hex(data: bytes) -> str:
    h = new_sm3()
    h.update(data)
    return h.hexdigest()


@dataclass(frozen=True)
class Content:
    """What identifies one content of a file: path in the data root, size, mtime (ns)."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, relative: str, stat: os.stat_result) -> Content:
        return cls(relative, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class Digests:
    sha256: str
    sm3: str
    evidence_id: int

    @property
    def etag(self) -> str:
        """A strong entity tag derived from the content's SHA-256."""
        return f'"sha256-{self.sha256[:32]}"'

    def repr_digest(self) -> str:
        """The RFC 9530 ``Repr-Digest`` field value."""
        sha = base64.b64encode(bytes.fromhex(self.sha256)).decode()
        sm3 = base64.b64encode(bytes.fromhex(self.sm3)).decode()
        return f"sha-256=:{sha}:, sm3=:{sm3}:"


class FileChanged(RuntimeError):
    """The file changed while its digests were computed (it was not replaced atomically)."""


def compute(path: Path, expected: Content | None = None) -> tuple[str, str]:
    """SHA-256 and SM3 (hex) of a file, in one pass; FileChanged if, by the end, its size or
    modification time is not ``expected``'s."""
    sha, sm3 = hashlib.sha256(), new_sm3()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            sha.update(block)
            sm3.update(block)
        st = os.fstat(f.fileno())
    if expected is not None and (st.st_size, st.st_mtime_ns) != (expected.size, expected.mtime_ns):
        raise FileChanged(expected.path)
    return sha.hexdigest(), sm3.hexdigest()


def _stored(session: Session, c: Content) -> Digests | None:
    row = session.scalars(
        select(FileDigest).where(
            FileDigest.path == c.path, FileDigest.size == c.size, FileDigest.mtime_ns == c.mtime_ns
        )
    ).first()
    return Digests(row.sha256, row.sm3, row.evidence_id) if row else None


def _store(session: Session, c: Content, sha256: str, sm3: str) -> Digests:
    evidence_id = evidence.record(
        session,
        KIND,
        f"datafile:{c.path}",
        "system",
        {"path": c.path, "size": c.size, "mtime_ns": str(c.mtime_ns), "sha256": sha256, "sm3": sm3},
    )
    session.add(
        FileDigest(
            path=c.path,
            size=c.size,
            mtime_ns=c.mtime_ns,
            sha256=sha256,
            sm3=sm3,
            evidence_id=evidence_id,
            computed_at=utcnow(),
        )
    )
    session.flush()
    return Digests(sha256, sm3, evidence_id)


class DigestCache:
    """Digests by content: memory, then the database, then one computation (recorded)."""

    def __init__(self) -> None:
        self._cache: OrderedDict[Content, Digests] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Content, threading.Lock] = {}

    def _hit(self, c: Content) -> Digests | None:
        with self._lock:
            found = self._cache.get(c)
            if found is not None:
                self._cache.move_to_end(c)
            return found

    def _keep(self, c: Content, d: Digests) -> Digests:
        with self._lock:
            self._cache[c] = d
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return d

    def get(self, unit: Unit, c: Content, real: Path) -> Digests:
        """The digests of ``c`` (whose bytes are at ``real``); blocking — call in a thread."""
        hit = self._hit(c)
        if hit is not None:
            return hit
        with self._lock:
            gate = self._computing.setdefault(c, threading.Lock())
        with gate:
            hit = self._hit(c)
            if hit is not None:
                return hit
            with unit() as s:
                found = _stored(s, c)
            try:
                if found is None:
                    found = self._compute_and_store(unit, c, real)
            finally:
                with self._lock:
                    self._computing.pop(c, None)
            return self._keep(c, found)

    @staticmethod
    def _compute_and_store(unit: Unit, c: Content, real: Path) -> Digests:
        sha256, sm3 = compute(real, c)
        try:
            with unit() as s:
                return _store(s, c, sha256, sm3)
        except IntegrityError:  # another gateway process stored it meanwhile
            with unit() as s:
                found = _stored(s, c)
            if found is None:
                raise
            return found
