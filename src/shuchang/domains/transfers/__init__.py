"""Transfers (数据交付 / 连接器): DSP 2025-1 transfer processes and pull access tokens.

Other domains import only these names. The data-plane gateway checks each request with
:func:`verify_token` (pure, no database) and :func:`check_started` (one primary-key read).
"""

from shuchang.domains.transfers.indicators import transfer_counts
from shuchang.domains.transfers.provider import Plane
from shuchang.domains.transfers.schemas import TransferOut
from shuchang.domains.transfers.tokens import (
    TokenClaims,
    TokenExpired,
    TokenForged,
    TokenMisdirected,
    TokenRejected,
    TransferNotStarted,
    check_started,
    require_started,
    transfer_states,
    verify_token,
)

__all__ = [
    "Plane",
    "TokenClaims",
    "TokenExpired",
    "TokenForged",
    "TokenMisdirected",
    "TokenRejected",
    "TransferNotStarted",
    "TransferOut",
    "check_started",
    "require_started",
    "transfer_counts",
    "transfer_states",
    "verify_token",
]
