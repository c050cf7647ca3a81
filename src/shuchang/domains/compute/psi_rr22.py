"""The optional RR22 backend (SecretFlow ``spu``, ``pip install shuchang[spu]``).

RR22 (Raghuraman–Rindal, "Blazing fast PSI from improved OKVS and subfield VOLE", CCS 2022)
is an OT/VOLE-based PSI: about 9 s for 1M × 1M on this kind of machine against ~430 s for
ECDH. Unlike the ECDH backend it does not run message by message over the connectors: the
two parties open a direct link (spu's brpc, one TCP port each) and run the protocol there.
The *receiver* learns the intersection; the other party learns nothing but the set sizes.
spu's RR22 has no size-only variant, so it serves the ``intersection`` and ``filter`` modes
(never ``cardinality``: a receiver that was promised only a count must not get members).

The link itself is not authenticated by the connectors' keys: run it on a private network
or with spu's TLS options (``ContextDesc.enable_ssl``); the connectors' signed messages fix
who the peer is, which agreement it runs under and where its link listens.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLUMN = "id"


def available() -> bool:
    try:
        import spu.psi  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Rr22Result:
    members: list[str] | None  # the receiver's intersection; None at the sender
    intersection_count: int
    original_count: int


def _link(rank: int, addresses: tuple[str, str], timeout_ms: int) -> Any:
    from spu import libspu  # type: ignore[import-untyped, import-not-found, unused-ignore]

    desc = libspu.link.Desc()
    desc.id = "shuchang-psi"
    desc.recv_timeout_ms = timeout_ms
    desc.http_max_payload_size = 64 * 1024 * 1024
    desc.connect_retry_times = 60
    desc.connect_retry_interval_ms = 500
    desc.throttle_window_size = 16
    for position, host in enumerate(addresses):
        desc.add_party(f"party{position}", host)
    return libspu.link.create_brpc(desc, rank)


def run(
    *,
    rank: int,
    items: list[str],
    addresses: tuple[str, str],
    receiver_rank: int,
    timeout_ms: int = 600_000,
) -> Rr22Result:
    """One side of an RR22 session: ``addresses`` are both parties' ``host:port`` (rank 0
    first). Items must already be normalised and distinct."""
    from spu import psi  # type: ignore[import-untyped, import-not-found, unused-ignore]

    with tempfile.TemporaryDirectory(prefix="shuchang-rr22-") as tmp:
        source, target = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        with source.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow([COLUMN])
            writer.writerows([i] for i in items)
        config = psi.PsiExecuteConfig(
            protocol_conf=psi.PsiProtocolConfig(
                protocol=psi.PsiProtocol.PROTOCOL_RR22,
                receiver_rank=receiver_rank,
                broadcast_result=False,
            ),
            input_params=psi.InputParams(
                path=str(source), selected_keys=[COLUMN], keys_unique=True
            ),
            output_params=psi.OutputParams(path=str(target), disable_alignment=True),
        )
        link = _link(rank, addresses, timeout_ms)
        try:
            report = psi.psi_execute(config, link)
        finally:
            link.stop_link()
        members = None
        if rank == receiver_rank:
            with target.open(encoding="utf-8") as f:
                members = sorted(row[COLUMN] for row in csv.DictReader(f))
        return Rr22Result(members, int(report.intersection_count), int(report.original_count))


# ---- sessions over RR22 -------------------------------------------------------------------------


def free_address(host: str) -> str:
    """``host:port`` with a port free right now (the link binds it moments later)."""
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return f"{host}:{sock.getsockname()[1]}"


def in_thread(work: Any) -> Any:
    """Run a side of the link on a thread of its own: each side blocks until the other
    joins, so neither may hold the request that brings the other in."""
    import threading

    def start() -> None:
        threading.Thread(target=work, name="shuchang-rr22", daemon=True).start()

    return start
