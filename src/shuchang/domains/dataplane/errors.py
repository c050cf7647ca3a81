"""Refusals of the data-plane gateway, rendered as RFC 9457 problems. Token refusals are the
transfers domain's (``transfer.token_*``, ``transfer.not_started``); the gateway adds::

    Denied (PermissionDenied, 403)    dataplane.denied                the decision said no
    NotAnApi (Conflict, 409)          dataplane.not_an_api            no HTTP API behind it
    UnknownRoute (NotFound, 404)      dataplane.not_found             not under /data/
    MethodNotAllowed (405)            dataplane.method_not_allowed    not GET, or POST to a GET API
    BodyTooLarge (413)                dataplane.body_too_large        request body over 10 MiB
    RateLimited (429)                 dataplane.rate_limited          over SHUCHANG_DATAPLANE_RATE
    UpstreamUnavailable (502)         dataplane.upstream_unavailable  backend refused or broke off
                                      dataplane.upstream_unfilterable not JSON, fields limited
                                      dataplane.upstream_too_large    answer over 64 MiB
    UpstreamTimeout (504)             dataplane.upstream_timeout      backend slower than timeout
"""

from __future__ import annotations

from shuchang.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ShuchangError


class Denied(PermissionDenied):
    default_code = "dataplane.denied"
    default_en = "The agreement does not permit this request"
    default_zh = "合约不允许此次请求"


class NotAnApi(Conflict):
    default_code = "dataplane.not_an_api"
    default_en = "The agreement's product is not served as an API by this gateway"
    default_zh = "该合约的产品不是由本网关提供的接口服务"


class UnknownRoute(NotFound):
    default_code = "dataplane.not_found"
    default_en = "Data requests go to /data/…"
    default_zh = "数据请求路径应为 /data/…"


class MethodNotAllowed(InvalidInput):
    status = 405
    default_code = "dataplane.method_not_allowed"
    default_en = "Use GET (or POST where the provider's API takes POST)"
    default_zh = "请使用 GET（接口要求时使用 POST）"


class BodyTooLarge(InvalidInput):
    status = 413
    default_code = "dataplane.body_too_large"
    default_en = "The request body is too large"
    default_zh = "请求体过大"


class RateLimited(ShuchangError):
    status = 429
    default_code = "dataplane.rate_limited"
    default_en = "Too many requests under this agreement; retry later"
    default_zh = "该合约下请求过于频繁，请稍后重试"


class UpstreamUnavailable(ShuchangError):
    status = 502
    default_code = "dataplane.upstream_unavailable"
    default_en = "The provider's backend API is unavailable"
    default_zh = "提供方后端接口不可用"


class UpstreamTimeout(ShuchangError):
    status = 504
    default_code = "dataplane.upstream_timeout"
    default_en = "The provider's backend API did not answer in time"
    default_zh = "提供方后端接口响应超时"
