"""The console's navigation, defined here and nowhere else (导航).

A domain that adds pages adds one :class:`NavEntry` to :data:`NAV` (and its label to
:mod:`shuchang.web.i18n`); the layout shows the entries the current user's role may see.
Planned next, in this order: 资源目录 ``nav.catalog`` (/console/catalog), 合约
``nav.contracts`` (/console/contracts), 存证 ``nav.evidence`` (/console/evidence).
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = frozenset({"operator", "regulator", "provider", "consumer", "service_firm"})


@dataclass(frozen=True)
class NavEntry:
    label: str
    """Message key in the catalogue, e.g. ``nav.participants``."""
    path: str
    roles: frozenset[str] = EVERYONE
    """Roles whose users see the entry (the role of the API key they signed in with)."""
    active_only: bool = True
    """Hidden from participants still awaiting review or approval."""

    def visible_to(self, role: str, status: str) -> bool:
        return role in self.roles and (status == "active" or not self.active_only)

    def is_current(self, path: str) -> bool:
        if self.path == "/console/":
            return path.rstrip("/") == "/console"
        return path == self.path or path.startswith(self.path + "/")


NAV: list[NavEntry] = [
    NavEntry("nav.dashboard", "/console/", active_only=False),
    NavEntry("nav.participants", "/console/participants"),
]


def entries_for(role: str, status: str) -> list[NavEntry]:
    return [entry for entry in NAV if entry.visible_to(role, status)]
