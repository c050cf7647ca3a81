"""Resource pages (资源登记): my resources, register, new version, detail, bulk import."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.catalog import bulk, resources
from shuchang.domains.catalog.schemas import ImportReport, ImportRowError, ResourceOut
from shuchang.domains.participants import require
from shuchang.errors import ShuchangError, ValidationFailed
from shuchang.http import platform_of
from shuchang.web.catalog_forms import (
    CLASSIFICATIONS,
    FIELD_ROLES,
    FIELD_TYPES,
    FILE_FORMATS,
    FREQUENCIES,
    HTTP_METHODS,
    LOCATION_TYPES,
    SENSITIVITIES,
    blank_row,
    new_resource_values,
    parse_resource,
    resource_inputs,
    resource_values,
    resource_values_from,
    service_error,
)
from shuchang.web.catalog_views import not_owner, own_resources, resource_view
from shuchang.web.forms import Errors, FieldError, text
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, Viewer, check_csrf, flash, redirect, render, viewer

PAGE_SIZE = 25
Form = URLEncodedBody[dict[str, Any]]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
Cursor = Annotated[str | None, QueryParameter(max_length=500)]
EXAMPLE_CSV = (
    "title,description,fields,source,update_frequency,industry,classification,location,"
    "regions,tags,legal_basis,personal_info,sensitive_personal_info\n"
    '企业年报摘要,"东瓯市企业年度报告的摘要信息：统一社会信用代码、从业人数、营业收入区间。",'
    '"[{""name"": ""uscc"", ""type"": ""string"", ""role"": ""identifier""}, '
    '{""name"": ""employees"", ""type"": ""integer"", ""role"": ""measure""}]",'
    "企业年报系统,yearly,L72,general,"
    '"{""type"": ""sql"", ""table"": ""samr.annual_reports""}",330300,年报;市场主体,,false,false\n'
)
CHOICES: dict[str, Any] = {
    "frequencies": FREQUENCIES,
    "classifications": CLASSIFICATIONS,
    "field_types": FIELD_TYPES,
    "sensitivities": SENSITIVITIES,
    "field_roles": FIELD_ROLES,
    "location_types": LOCATION_TYPES,
    "file_formats": FILE_FORMATS,
    "http_methods": HTTP_METHODS,
}


def _said(request: Req, key: str, **values: object) -> None:
    flash(request, "ok", translate("zh-CN", key, **values), translate("en", key, **values))


def _provider(request: Req) -> Viewer:
    """The signed-in provider (a 403 page for anyone else)."""
    with platform_of(request).unit(write=False) as s:
        user = viewer(s, request, allow_inactive=False)
    require(user.actor, "provider")
    return user


class ResourcePages(Controller):
    path = "/catalog/resources"

    @get("/", sync_to_thread=True)
    def mine(self, request: Req, cursor: Cursor = None) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            page = own_resources(s, user, cursor, PAGE_SIZE)
        return render(
            request,
            "catalog/resources.html",
            user=user,
            page=page,
            first=cursor is None,
        )

    # --- register ------------------------------------------------------------------------

    @get("/new", sync_to_thread=True)
    def new_form(self, request: Req) -> Template:
        return self._form(request, _provider(request), new_resource_values(), {})

    @post("/new", sync_to_thread=True, status_code=200)
    def register(self, request: Req, data: Form) -> Template | Redirect:
        """Register; a row added or removed without htmx comes back as the form again."""
        check_csrf(request, data)
        user = _provider(request)
        if text(data, "add_field") or text(data, "remove_field"):
            return self._form(request, user, resource_values(data), {})
        resource, errors, values = parse_resource(data)
        if resource is None:
            return self._form(request, user, values, errors, status_code=422)
        try:
            with platform_of(request).unit() as s:
                registered = resources.register(s, user.actor, resource)
        except ShuchangError as exc:
            found = service_error(exc, resource_inputs(_sent_rows(values)))
            return self._form(request, user, values, found, status_code=exc.status)
        _said(request, "resource.registered", title=registered.title)
        return redirect(f"/console/catalog/resources/{registered.id}")

    @get("/field-row", sync_to_thread=False)
    def field_row(
        self, request: Req, key: Annotated[int, QueryParameter(ge=0, le=10_000)]
    ) -> Template:
        """htmx: one more row of the fields table (and the add button for the next one)."""
        return render(
            request,
            "catalog/_field_row.html",
            row=blank_row(key),
            next_key=key + 1,
            errors={},
            fragment=True,
            **CHOICES,
        )

    # --- versions ------------------------------------------------------------------------

    @get("/{resource_id:uuid}/revise", sync_to_thread=True)
    def revise_form(self, request: Req, resource_id: FromPath[uuid.UUID]) -> Template:
        user = _provider(request)
        with platform_of(request).unit(write=False) as s:
            latest = resources.get(s, user.actor, resource_id)
        if not user.is_self(latest.provider_id):
            raise not_owner("resource")
        return self._form(request, user, resource_values_from(latest), {}, resource=latest)

    @post("/{resource_id:uuid}/revise", sync_to_thread=True, status_code=200)
    def revise(
        self, request: Req, resource_id: FromPath[uuid.UUID], data: Form
    ) -> Template | Redirect:
        check_csrf(request, data)
        user = _provider(request)
        with platform_of(request).unit(write=False) as s:
            latest = resources.get(s, user.actor, resource_id)
        if text(data, "add_field") or text(data, "remove_field"):
            return self._form(request, user, resource_values(data), {}, resource=latest)
        resource, errors, values = parse_resource(data)
        if resource is None:
            return self._form(request, user, values, errors, resource=latest, status_code=422)
        try:
            with platform_of(request).unit() as s:
                revised = resources.revise(s, user.actor, resource_id, resource)
        except ShuchangError as exc:
            found = service_error(exc, resource_inputs(_sent_rows(values)))
            return self._form(request, user, values, found, resource=latest, status_code=exc.status)
        _said(request, "resource.revised", title=revised.title, version=revised.version)
        return redirect(f"/console/catalog/resources/{resource_id}")

    @get("/{resource_id:uuid}", sync_to_thread=True)
    def detail(
        self,
        request: Req,
        resource_id: FromPath[uuid.UUID],
        version: Annotated[int | None, QueryParameter(ge=1, le=1_000_000)] = None,
    ) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            view = resource_view(s, user, resource_id, version, platform.settings.reviewers)
        return render(request, "catalog/resource.html", user=user, view=view)

    # --- bulk import ---------------------------------------------------------------------

    @get("/import", sync_to_thread=True)
    def import_form(self, request: Req) -> Template:
        return self._import(request, _provider(request))

    @get("/import/example.csv", sync_to_thread=False)
    def example(self) -> Response[bytes]:
        return Response(
            content=("\ufeff" + EXAMPLE_CSV).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="resources-example.csv"'},
        )

    @post("/import", sync_to_thread=True, status_code=200)
    def bulk_import(self, request: Req, data: Upload) -> Template:
        """All-or-nothing unless "valid rows only" is ticked; every bad row is reported."""
        check_csrf(request, data)
        user = _provider(request)
        upload = data.get("file")
        partial = bool(text(data, "partial"))
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors = {"file": FieldError.of("import.no_file")}
            return self._import(request, user, errors=errors, partial=partial, status_code=422)
        body = upload.file.read()
        as_csv = text(data, "format") == "csv" or (
            text(data, "format") != "json" and upload.filename.lower().endswith(".csv")
        )
        try:
            rows = bulk.parse_csv(body) if as_csv else bulk.parse_json(body)
            with platform_of(request).unit() as s:
                report = bulk.import_resources(s, user.actor, rows, partial=partial)
        except ValidationFailed as exc:
            if exc.code != "import.rows_invalid":
                errors = {"file": FieldError.from_error(exc)}
                return self._import(request, user, errors=errors, partial=partial, status_code=422)
            rejected = [ImportRowError(**row) for row in exc.extra.get("errors", [])]
            report = ImportReport(imported=0, rejected=len(rejected), errors=rejected, ids=[])
            return self._import(request, user, report=report, partial=partial, status_code=422)
        except ShuchangError as exc:
            errors = {"file": FieldError.from_error(exc)}
            return self._import(
                request, user, errors=errors, partial=partial, status_code=exc.status
            )
        return self._import(request, user, report=report, partial=partial)

    @staticmethod
    def _import(
        request: Req,
        user: Viewer,
        *,
        report: ImportReport | None = None,
        errors: Errors | None = None,
        partial: bool = False,
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "catalog/import.html",
            user=user,
            report=report,
            errors=errors or {},
            partial=partial,
            status_code=status_code,
        )

    @staticmethod
    def _form(
        request: Req,
        user: Viewer,
        values: dict[str, Any],
        errors: Errors,
        *,
        resource: ResourceOut | None = None,
        status_code: int = 200,
    ) -> Template:
        rows = values["rows"]
        return render(
            request,
            "catalog/resource_form.html",
            user=user,
            values=values,
            errors=errors,
            resource=resource,
            next_key=max((row["key"] for row in rows), default=-1) + 1,
            status_code=status_code,
            **CHOICES,
        )


def _sent_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows that went to the service, in its order (blank rows were left out)."""
    return [row for row in values["rows"] if row["name"] or row["description"]]
