"""HTTP routes of the evidence domain."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from shuchang.domains.evidence.schemas import EvidenceEntry
from shuchang.domains.evidence.service import history
from shuchang.http import actor_of, platform_of, require


class EvidenceController(Controller):
    path = "/api/v1/evidence"
    tags = ["evidence"]

    @get("/", sync_to_thread=True, summary="An object's evidence history")
    def subject_history(
        self,
        request: Request[Any, Any, Any],
        subject: Annotated[str, QueryParameter(min_length=1, max_length=128)],
    ) -> list[EvidenceEntry]:
        """Every recorded change of ``subject`` (e.g. ``participant:<id>``), oldest first.

        Operators and regulators read any subject; a participant reads its own.
        """
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            if subject != actor.ref:
                require(actor, "operator", "regulator")
            return history(s, subject)


ROUTES = [EvidenceController]
