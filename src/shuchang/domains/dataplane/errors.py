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

Datasets (files and tables, docs/dataplane §6)::

    NotDeliverable (409)              dataplane.not_deliverable       compute-only product
    PartRequired (409)                dataplane.part_required         several parts, none named
    PartNotFound (404)                dataplane.part_not_found        no such part
    RangeUnsatisfiable (416)          dataplane.range_unsatisfiable   range past the end
    Unprojectable (409)               dataplane.unprojectable         fields limited, file not CSV…
    BadTableQuery (400)               dataplane.bad_query             format, limit, after
    SourceUnavailable (503)           dataplane.source_unavailable    file or database unreachable
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


class NotDeliverable(Conflict):
    default_code = "dataplane.not_deliverable"
    default_en = "This product is not delivered as data (compute-only products never leave)"
    default_zh = "该产品不以数据形式交付（仅计算产品的数据不出域）"


class PartRequired(Conflict):
    default_code = "dataplane.part_required"
    default_en = (
        "This dataset has several parts: name one (/data/<resource id>, see /data/manifest)"
    )
    default_zh = "该数据集包含多个部分，请指定其一（/data/<资源编号>，见 /data/manifest）"


class PartNotFound(NotFound):
    default_code = "dataplane.part_not_found"
    default_en = "No such part in this dataset (see /data/manifest)"
    default_zh = "该数据集中没有这一部分（见 /data/manifest）"


class RangeUnsatisfiable(ShuchangError):
    status = 416
    default_code = "dataplane.range_unsatisfiable"
    default_en = "The requested range starts beyond the end of the file"
    default_zh = "请求的字节范围超出文件末尾"


class Unprojectable(Conflict):
    default_code = "dataplane.unprojectable"
    default_en = "The agreement limits fields and this file cannot be reduced to them"
    default_zh = "合约限定了字段，而该文件无法按字段裁剪"


class BadTableQuery(InvalidInput):
    default_code = "dataplane.bad_query"
    default_en = "Invalid table query (format, limit or after)"
    default_zh = "数据表查询参数无效（format、limit 或 after）"


class SourceUnavailable(ShuchangError):
    status = 503
    default_code = "dataplane.source_unavailable"
    default_en = "The provider's data source is unavailable"
    default_zh = "提供方数据源不可用"
