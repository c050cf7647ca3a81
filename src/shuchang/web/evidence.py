"""Evidence pages (存证溯源): the log (存证日志) with its audit, one entry with its receipt,
and the receipt and leaf as downloads for `shuchang tlog verify`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from shuchang.domains.evidence import logview
from shuchang.domains.participants import require
from shuchang.http import platform_of
from shuchang.web.evidence_views import (
    OVERSIGHT,
    entry_view,
    leaf_bytes,
    log_view,
    receipt_bytes,
    run_audit,
)
from shuchang.web.i18n import translate
from shuchang.web.pages import Req, check_csrf, flash, redirect, render, viewer

Form = URLEncodedBody[dict[str, Any]]
RECEIPT = "text/plain; charset=utf-8"


def download(body: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        content=body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


class EvidencePages(Controller):
    path = "/evidence"

    @get("/", sync_to_thread=True)
    def log_page(self, request: Req) -> Template:
        """Operator and regulator: the log's size, key, latest checkpoint and its audit."""
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            require(user.actor, *OVERSIGHT)
            view = log_view(s, user, platform.log_signer)
        return render(request, "evidence/log.html", user=user, view=view)

    @post("/audit", sync_to_thread=True, status_code=200)
    def audit(self, request: Req, data: Form) -> Template:
        """Recompute the log from what the database holds and show each finding (read only)."""
        check_csrf(request, data)
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            require(user.actor, *OVERSIGHT)
            audited = run_audit(s, platform.log_signer)
            view = log_view(s, user, platform.log_signer, audited)
        return render(request, "evidence/log.html", user=user, view=view)

    @post("/checkpoints", sync_to_thread=True, status_code=303)
    def publish(self, request: Req, data: Form) -> Redirect:
        """Operator: sequence everything queued and publish a signed checkpoint now."""
        check_csrf(request, data)
        platform = platform_of(request)
        with platform.unit() as s:
            user = viewer(s, request, allow_inactive=False)
            require(user.actor, "operator")
            checkpoint = logview.sequence_and_publish(s, platform.log_signer)
            size = checkpoint.size
        flash(
            request,
            "ok",
            translate("zh-CN", "evlog.published", size=size),
            translate("en", "evlog.published", size=size),
        )
        return redirect("/console/evidence")

    @get("/entries/{entry_id:int}", sync_to_thread=True)
    def entry(self, request: Req, entry_id: FromPath[int]) -> Template:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            user = viewer(s, request)
            view = entry_view(s, user, entry_id)
        return render(request, "evidence/entry.html", user=user, view=view)

    @get("/entries/{entry_id:int}/receipt", sync_to_thread=True)
    def receipt(self, request: Req, entry_id: FromPath[int]) -> Response[bytes]:
        """The tlog-proof@v1 receipt as a file (409 page until a checkpoint covers the entry)."""
        with platform_of(request).unit(write=False) as s:
            body = receipt_bytes(s, viewer(s, request), entry_id)
        return download(body, f"evidence-{entry_id}.tlog-proof", RECEIPT)

    @get("/entries/{entry_id:int}/leaf", sync_to_thread=True)
    def leaf(self, request: Req, entry_id: FromPath[int]) -> Response[bytes]:
        """The entry's canonical leaf bytes: the LEAF file `shuchang tlog verify` checks."""
        with platform_of(request).unit(write=False) as s:
            body = leaf_bytes(s, viewer(s, request), entry_id)
        return download(body, f"evidence-{entry_id}.leaf", "application/octet-stream")
