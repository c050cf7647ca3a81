"""The catalog's HTTPS binding of the Dataspace Protocol 2025-1, and the public DCAT export.

=====================================  =====  ===========================================
path                                   auth   answers
=====================================  =====  ===========================================
``POST /dsp/catalog/request``          key    ``Catalog`` for a ``CatalogRequestMessage``
``GET  /dsp/catalog/datasets/{id}``    key    ``Dataset`` (the DatasetRequestMessage)
``GET  /.well-known/dspace-version``   none   protocol version metadata
``GET  /catalog/dcat``                 none   DCAT 3 JSON-LD of every listed product
=====================================  =====  ===========================================

``key``: the participant's API key as ``Authorization: Bearer <key>``, as on the rest of the
API. Errors under ``/dsp`` are DSP ``CatalogError`` bodies (``application/json``) with the
HTTP status of the Shuchang error and its stable ``code`` — not RFC 9457 problems, because a
DSP consumer expects the protocol's own error shape; that includes ``405`` for a method a
catalog path does not take (with ``Allow``). ``POST /dsp/catalog/request`` accepts
``?provider=<participantId>`` — ``urn:uscc:<统一社会信用代码>`` or ``urn:shuchang:person:…``,
the URN contract agreements name the provider by, or its bare local id — for one provider's
catalog instead of the space's nested one, and ``filter`` criteria ``{"operandLeft",
"operator", "operandRight"}``, operator ``=`` or ``in``, operandLeft one of ``id
participantId kind keyword theme spatial`` (``participantId`` compares URNs); any other
filter is answered 400, as the binding requires.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, route
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException, MethodNotAllowedException, ValidationException
from litestar.params import FromPath, QueryParameter, RawBody
from litestar.types import ControllerRouterHandler

from shuchang.domains.catalog import dcat, dsp
from shuchang.errors import InvalidInput, ShuchangError, Unauthenticated
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]
DSP_JSON = "application/json"
JSON_LD = "application/ld+json"
log = logging.getLogger("shuchang")


def space_of(request: Req) -> dcat.Space:
    """This deployment: its name (the host part of SHUCHANG_LOG_ORIGIN) and DSP base URL."""
    settings = platform_of(request).settings
    base = str(request.base_url).rstrip("/")
    return dcat.Space(name=settings.log_origin.split("/")[0], endpoint_url=base + dsp.PATH)


def _bad(en: str, zh: str, code: str = "dsp.invalid_message") -> InvalidInput:
    return InvalidInput(en, zh, code=code)


def _decode(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise _bad(
            f"The body is not JSON: {exc}", f"请求体不是合法的 JSON：{exc}", code="dsp.not_json"
        ) from None


def _check_message(message: Any, expected: str) -> dict[str, Any]:
    """What the 2025-1 schemas ask of every message: an object, its ``@type``, the context."""
    if not isinstance(message, dict):
        raise _bad("The message must be a JSON object", "消息须为 JSON 对象")
    if message.get("@type") != expected:
        raise _bad(f"@type must be {expected}", f"@type 须为 {expected}")
    context = message.get("@context")
    if not (
        isinstance(context, list)
        and all(isinstance(c, str) for c in context)
        and dsp.DSP_CONTEXT in context
    ):
        raise _bad(
            f"@context must be a list of IRIs that includes {dsp.DSP_CONTEXT}",
            f"@context 须为包含 {dsp.DSP_CONTEXT} 的 IRI 列表",
        )
    return message


def _criterion(item: Any, position: int) -> dsp.Criterion:
    names = list(dsp.FILTERABLE)
    unsupported = _bad(
        f"filter[{position}] is not supported: use {{operandLeft, operator, operandRight}}"
        f" with operator = or in and operandLeft one of {', '.join(names)}",
        f"filter[{position}] 不受支持：请用 {{operandLeft, operator, operandRight}}，"
        f"operator 为 = 或 in，operandLeft 取 {'、'.join(names)}",
        code="dsp.filter_unsupported",
    )
    if not isinstance(item, dict) or set(item) != {"operandLeft", "operator", "operandRight"}:
        raise unsupported
    left, operator, right = item["operandLeft"], item["operator"], item["operandRight"]
    if left not in dsp.FILTERABLE:
        raise unsupported
    if operator == "=" and isinstance(right, str):
        return dsp.Criterion(left, frozenset({right}))
    if operator == "in" and isinstance(right, list) and all(isinstance(v, str) for v in right):
        return dsp.Criterion(left, frozenset(right))
    raise unsupported


def parse_catalog_request(message: Any) -> list[dsp.Criterion]:
    """A ``CatalogRequestMessage``'s filter criteria (all must hold); InvalidInput if malformed."""
    body = _check_message(message, "CatalogRequestMessage")
    items = body.get("filter", [])
    if not isinstance(items, list):
        raise _bad("filter must be an array", "filter 须为数组")
    return [_criterion(item, i) for i, item in enumerate(items)]


def parse_dataset_request(message: Any) -> str:
    """The dataset ``@id`` a ``DatasetRequestMessage`` names (other bindings carry the body)."""
    body = _check_message(message, "DatasetRequestMessage")
    if not isinstance(body.get("dataset"), str):
        raise _bad("dataset must be the dataset's @id", "dataset 须为数据集的 @id")
    return str(body["dataset"])


def _status_and_error(exc: Exception) -> tuple[int, ShuchangError]:
    if isinstance(exc, ShuchangError):
        return exc.status, exc
    if isinstance(exc, ValidationException):
        return 400, _bad(f"Invalid parameter: {exc.detail}", f"参数无效：{exc.detail}")
    if isinstance(exc, MethodNotAllowedException):
        return 405, ShuchangError(
            "Method not allowed", "不支持该请求方法", code="route.method_not_allowed"
        )
    if isinstance(exc, HTTPException):
        return exc.status_code, ShuchangError(
            exc.detail, exc.detail, code=f"http.{exc.status_code}"
        )
    log.exception("unhandled error in the DSP catalog")
    return 500, ShuchangError()


def catalog_error_response(_request: Req, exc: Exception) -> Response[Any]:
    """Every error under ``/dsp/catalog`` as a DSP ``CatalogError`` with its HTTP status."""
    status, error = _status_and_error(exc)
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}  # ``allow``
    if isinstance(exc, Unauthenticated):
        headers["www-authenticate"] = 'Bearer realm="dsp"'
    return Response(
        content=dsp.catalog_error(error.code, error.message_en, error.message_zh),
        status_code=status,
        media_type=DSP_JSON,
        headers=headers,
    )


def _other_methods(allowed: HttpMethod) -> list[HttpMethod]:
    """Every method but ``allowed`` and OPTIONS (Litestar answers that one with ``Allow``)."""
    return [m for m in HttpMethod if m not in (allowed, HttpMethod.OPTIONS)]


def _wrong_method(allowed: HttpMethod) -> MethodNotAllowedException:
    """A 405, answered as a ``CatalogError``: Litestar's router refuses a wrong method before any
    controller handler (as an RFC 9457 problem), so the catalog paths take every method."""
    return MethodNotAllowedException(headers={"allow": ", ".join(sorted((allowed, "OPTIONS")))})


class DspCatalogController(Controller):
    """Provider side of the DSP catalog protocol, for the whole space (a catalog broker)."""

    path = "/dsp/catalog"
    tags = ["dsp"]
    exception_handlers = {Exception: catalog_error_response}

    @post("/request", status_code=200, sync_to_thread=True, summary="DSP catalog request")
    def request_catalog(
        self,
        request: Req,
        body: RawBody,
        provider: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[Any]:
        """The Catalog this participant may see: every listed product, nested per provider."""
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)  # authentication first: strangers learn nothing
            criteria = parse_catalog_request(_decode(body))
            catalog = dsp.catalog_for(s, actor, space_of(request), criteria, provider)
        return Response(content=catalog, media_type=DSP_JSON)

    @get("/datasets/{dataset_id:str}", sync_to_thread=True, summary="DSP dataset request")
    def request_dataset(self, request: Req, dataset_id: FromPath[str]) -> Response[Any]:
        """One listed Dataset by ``@id`` (``urn:uuid:<id>``, URL-encoded or not)."""
        with platform_of(request).unit(write=False) as s:
            found = dsp.dataset_for(s, actor_of(s, request), space_of(request), dataset_id)
        return Response(content=found, media_type=DSP_JSON)

    @route(
        "/request",
        http_method=_other_methods(HttpMethod.POST),
        status_code=405,
        include_in_schema=False,
    )
    async def request_catalog_other_method(self) -> None:
        raise _wrong_method(HttpMethod.POST)

    @route(
        "/datasets/{dataset_id:str}",
        http_method=_other_methods(HttpMethod.GET),
        status_code=405,
        include_in_schema=False,
    )
    async def request_dataset_other_method(self) -> None:
        raise _wrong_method(HttpMethod.GET)


@get("/.well-known/dspace-version", tags=["dsp"], summary="DSP protocol versions")
async def dspace_version(request: Req) -> Response[Any]:
    """Unversioned and unauthenticated, as DSP 2025-1 requires."""
    return Response(content=dsp.version_metadata(space_of(request)), media_type=DSP_JSON)


@get("/catalog/dcat", sync_to_thread=True, tags=["catalog"], summary="Public catalog (DCAT 3)")
def dcat_export(request: Req) -> Response[Any]:
    """Every listed product as DCAT 3 JSON-LD; no key needed, nothing unlisted, no locations."""
    with platform_of(request).unit(write=False) as s:
        catalog = dsp.public_catalog(s, space_of(request))
    return Response(content=catalog, media_type=JSON_LD)


ROUTES: list[ControllerRouterHandler] = [DspCatalogController, dspace_version, dcat_export]

__all__ = [
    "ROUTES",
    "catalog_error_response",
    "parse_catalog_request",
    "parse_dataset_request",
    "space_of",
]
