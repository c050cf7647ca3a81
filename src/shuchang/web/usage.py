"""The agreement page's live usage chart (用量图表): metered usage as JSON, polled by the page.

``GET /console/contracts/agreements/{id}/usage.json`` gives, for the agreement's parties and
oversight (anyone else: not found), the usage summary per Asia/Shanghai day and per hour of
the last 48 hours — permitted and denied requests (or pushed units), bytes — from the usage
records of :mod:`shuchang.domains.dataplane`. The page draws it with the vendored ECharts
(``/console/static/usage-chart.js``) and asks again every few seconds.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromPath

from shuchang.domains.dataplane import usage_days, usage_hours
from shuchang.http import platform_of
from shuchang.web.pages import Req, viewer

HOURS = 48


class UsagePages(Controller):
    path = "/contracts/agreements"

    @get("/{agreement_id:uuid}/usage.json", sync_to_thread=True)
    def usage(self, request: Req, agreement_id: FromPath[uuid.UUID]) -> Response[Any]:
        with platform_of(request).unit(write=False) as s:
            user = viewer(s, request, allow_inactive=False)
            days = usage_days(s, user.actor, agreement_id)
            hours = usage_hours(s, user.actor, agreement_id, HOURS)
        body = {
            "agreement_id": str(agreement_id),
            "totals": {
                "requests": days.requests,
                "permitted": days.permitted,
                "denied": days.denied,
                "unknown": days.unknown,
                "bytes": days.bytes,
                "rows": days.rows,
            },
            "days": [
                {
                    "day": d.day.isoformat(),
                    "permitted": d.permitted,
                    "denied": d.denied,
                    "bytes": d.bytes,
                }
                for d in days.days
            ],
            "hours": hours,
        }
        return Response(body, headers={"cache-control": "no-store"})
