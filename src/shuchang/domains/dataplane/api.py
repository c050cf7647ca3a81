"""Management routes of the data plane on the main app: metered usage per agreement."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from shuchang.domains.dataplane import service
from shuchang.domains.dataplane.schemas import UsageSummary
from shuchang.http import actor_of, platform_of

Req = Request[Any, Any, Any]


class DataplaneController(Controller):
    path = "/api/v1/dataplane"
    tags = ["dataplane"]

    @get("/usage", sync_to_thread=True, summary="Metered usage of an agreement, per day")
    def usage(
        self,
        request: Req,
        agreement_id: Annotated[uuid.UUID, QueryParameter(name="agreement_id")],
        since: Annotated[datetime | None, QueryParameter(name="since")] = None,
        until: Annotated[datetime | None, QueryParameter(name="until")] = None,
    ) -> UsageSummary:
        """Requests, permitted, denied, bytes and rows (``since`` inclusive, ``until``
        exclusive; times without a zone are UTC) for the agreement's parties and oversight."""
        with platform_of(request).unit(write=False) as s:
            return service.summary(s, actor_of(s, request), agreement_id, since, until)


ROUTES = [DataplaneController]
