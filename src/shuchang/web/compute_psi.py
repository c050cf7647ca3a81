"""PSI pages (隐私求交): the viewer's sessions with a start form (a CSV of identifiers
uploaded by the consumer) and one session's result page (sizes, digests, messages, and the
members where the consumer may see them).

Starting goes through the same function as the management API
(:func:`shuchang.domains.compute.psi_api.start_session`); the request is built and sent
after the page answers, and the result page shows the session as it moves on.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from shuchang.domains.compute import psi_views
from shuchang.domains.compute.psi_api import start_session
from shuchang.domains.compute.psi_schemas import PsiStart
from shuchang.errors import NotFound, ShuchangError, ValidationFailed
from shuchang.http import platform_of
from shuchang.web.forms import text
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, flash_error, redirect, render, viewer

Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
MEMBERS_SHOWN = 200


class PsiPages(Controller):
    path = "/compute/psi"

    @get("/", sync_to_thread=True)
    def list_page(self, request: Req) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = psi_views.list_sessions(s, user.actor)
        return render(
            request,
            "compute/psi.html",
            user=user,
            found=found,
            agreement=request.query_params.get("agreement", ""),
        )

    @post("/", sync_to_thread=True, status_code=303)
    def start(self, request: Req, data: Upload) -> Redirect:
        check_csrf(request, data)
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise ValidationFailed(
                    "Choose a CSV file", "请选择 CSV 文件", code="psi.no_file", field="file"
                )
            try:
                agreement_id = uuid.UUID(text(data, "agreement_id"))
            except ValueError as exc:
                raise ValidationFailed(
                    "Not an agreement id",
                    "合约编号格式错误",
                    code="psi.agreement_id",
                    field="agreement_id",
                ) from exc
            start_data = PsiStart(
                agreement_id=agreement_id,
                mode=text(data, "mode") or "cardinality",  # type: ignore[arg-type]
                normalization=text(data, "normalization") or "uscc",  # type: ignore[arg-type]
                csv=upload.file.read().decode("utf-8-sig", errors="replace"),
                column=text(data, "column") or None,
            )
            out, task = start_session(platform_of(request), request, start_data)
        except ShuchangError as exc:
            flash_error(request, exc)
            return redirect("/console/compute/psi")
        flash(
            request, "ok", translate("zh-CN", "psi.started_ok"), translate("en", "psi.started_ok")
        )
        return Redirect(path=f"/console/compute/psi/{out.id}", status_code=303, background=task)

    @get("/{session_id:uuid}", sync_to_thread=True)
    def detail(self, request: Req, session_id: FromPath[uuid.UUID]) -> Template:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            found = psi_views.get(s, user.actor, session_id)
            try:
                members = (
                    psi_views.members(s, user.actor, session_id) if found.members_available else []
                )
            except NotFound:
                members = []
        return render(
            request,
            "compute/psi_session.html",
            user=user,
            ps=found,
            members=members[:MEMBERS_SHOWN],
            total=len(members),
        )
