"""Data plane (数据面 / 连接器网关): the gateway serving API products and datasets under
agreements, with per-request usage control, rate limits, metering and sealed metering
batches; the pusher delivering push transfers; the console's views of usage and pushes.

Other domains import only these names.
"""

from shuchang.domains.dataplane.billing import PeriodUsage, period_usage
from shuchang.domains.dataplane.gateway import Gateway, create_gateway
from shuchang.domains.dataplane.indicators import first_request_at, usage_by_day
from shuchang.domains.dataplane.metering import usage_summary
from shuchang.domains.dataplane.push import Pusher
from shuchang.domains.dataplane.schemas import BatchOut, DayUsage, UsageSummary
from shuchang.domains.dataplane.sealing import batch_digest, seal, verify_batch
from shuchang.domains.dataplane.views import (
    PushStatus,
    TransferUsage,
    dataset_manifest,
    push_status,
    transfer_usage,
    usage_days,
    usage_hours,
)

__all__ = [
    "BatchOut",
    "DayUsage",
    "Gateway",
    "PeriodUsage",
    "PushStatus",
    "Pusher",
    "TransferUsage",
    "UsageSummary",
    "batch_digest",
    "create_gateway",
    "dataset_manifest",
    "first_request_at",
    "period_usage",
    "push_status",
    "seal",
    "transfer_usage",
    "usage_by_day",
    "usage_days",
    "usage_hours",
    "usage_summary",
    "verify_batch",
]
