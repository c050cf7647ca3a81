"""Data plane (数据面 / 连接器网关): the gateway serving API products under agreements, with
per-request usage control, rate limits, metering and sealed metering batches.

Other domains import only these names.
"""

from shuchang.domains.dataplane.billing import PeriodUsage, period_usage
from shuchang.domains.dataplane.gateway import Gateway, create_gateway
from shuchang.domains.dataplane.indicators import first_request_at, usage_by_day
from shuchang.domains.dataplane.metering import usage_summary
from shuchang.domains.dataplane.schemas import BatchOut, DayUsage, UsageSummary
from shuchang.domains.dataplane.sealing import batch_digest, seal, verify_batch

__all__ = [
    "BatchOut",
    "DayUsage",
    "Gateway",
    "PeriodUsage",
    "UsageSummary",
    "batch_digest",
    "create_gateway",
    "first_request_at",
    "period_usage",
    "seal",
    "usage_by_day",
    "usage_summary",
    "verify_batch",
]
