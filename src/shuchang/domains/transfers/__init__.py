"""Transfers (数据交付 / 连接器): DSP 2025-1 transfer processes and pull access tokens.

Other domains import only these names. The data-plane gateway checks each request with
:func:`verify_token` (pure, no database) and :func:`check_started` (one primary-key read);
its pusher finds push transfers with :func:`started_pushes` and ends them with
:func:`finish_push`, sending the message with :func:`deliver` after the commit.
"""

from shuchang.domains.transfers.indicators import transfer_counts
from shuchang.domains.transfers.process import Outbound
from shuchang.domains.transfers.provider import Plane
from shuchang.domains.transfers.push import (
    PushTransfer,
    finish_push,
    push_transfer,
    started_pushes,
)
from shuchang.domains.transfers.schemas import TransferOut
from shuchang.domains.transfers.service import deliver
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
    "Outbound",
    "Plane",
    "PushTransfer",
    "TokenClaims",
    "TokenExpired",
    "TokenForged",
    "TokenMisdirected",
    "TokenRejected",
    "TransferNotStarted",
    "TransferOut",
    "check_started",
    "deliver",
    "finish_push",
    "push_transfer",
    "require_started",
    "started_pushes",
    "transfer_counts",
    "transfer_states",
    "verify_token",
]
