"""Refusals of the compute domain (隐私计算), rendered as RFC 9457 problems::

    QueryRejected (ValidationFailed, 422)   compute.query.<reason>    the query is not allowed
    ProfileInvalid (ValidationFailed, 422)  compute.profile_invalid   a compute profile is wrong
    NoProfile (Conflict, 409)               compute.no_profile        product has no profile yet
    NotComputeOnly (Conflict, 409)          compute.not_compute_only  not a compute-only product
    BudgetExhausted (Conflict, 409)         compute.budget_exhausted  ε left is less than asked
    UseDenied (PermissionDenied, 403)       compute.denied            the agreement says no
                                            compute.no_budget         it states no ε budget
    (PermissionDenied, 403)                 compute.not_provider      profile by a non-provider
                                            compute.not_consumer      job by a non-consumer
    JobFailed (Conflict, 409)               compute.job_failed        execution failed/timed out

Every query rejection carries ``reason`` (the stable code's last part), the offending SQL
fragment when there is one, and both messages.
"""

from __future__ import annotations

from typing import Any

from shuchang.errors import Conflict, PermissionDenied, ValidationFailed


class QueryRejected(ValidationFailed):
    default_code = "compute.query_rejected"
    default_en = "The query is not allowed"
    default_zh = "查询不被允许"

    def __init__(self, reason: str, en: str, zh: str, fragment: str | None = None) -> None:
        extra: dict[str, Any] = {"reason": reason}
        if fragment:
            extra["fragment"] = fragment[:200]
        super().__init__(en, zh, code=f"compute.query.{reason}", field="sql", extra=extra)
        self.reason = reason


class ProfileInvalid(ValidationFailed):
    default_code = "compute.profile_invalid"
    default_en = "The compute profile is not valid"
    default_zh = "计算配置不合法"


class NoProfile(Conflict):
    default_code = "compute.no_profile"
    default_en = "The provider has not set a compute profile for this product"
    default_zh = "提供方尚未为该产品设置计算配置"


class NotComputeOnly(Conflict):
    default_code = "compute.not_compute_only"
    default_en = "Only compute-only products run computations"
    default_zh = "只有“可用不可见”（仅计算）产品才能运行计算"


class BudgetExhausted(Conflict):
    default_code = "compute.budget_exhausted"
    default_en = "The privacy budget left is smaller than this query's ε; nothing was released"
    default_zh = "剩余隐私预算不足以支付本次查询的 ε，未发布任何结果"


class UseDenied(PermissionDenied):
    default_code = "compute.denied"
    default_en = "The agreement does not permit this computation"
    default_zh = "合约不允许此次计算"


class JobFailed(Conflict):
    default_code = "compute.job_failed"
    default_en = "The computation failed; nothing was released and no budget was spent"
    default_zh = "计算失败，未发布任何结果，也未扣减隐私预算"
