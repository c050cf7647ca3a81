"""The console's navigation, defined here and nowhere else (导航).

A domain that adds pages adds one :class:`NavEntry` to :data:`NAV` (and its label to
:mod:`shuchang.web.i18n`); the layout shows the entries the current user's role may see, and
marks the one whose path is the longest prefix of the current page as current.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = frozenset({"operator", "regulator", "provider", "consumer", "service_firm"})
PROVIDERS = frozenset({"provider"})
OVERSIGHT = frozenset({"operator", "regulator"})
PARTIES = frozenset({"provider", "consumer"}) | OVERSIGHT
MARKET = frozenset({"provider", "service_firm"}) | OVERSIGHT


@dataclass(frozen=True)
class NavEntry:
    label: str
    """Message key in the catalogue, e.g. ``nav.participants``."""
    path: str
    roles: frozenset[str] = EVERYONE
    """Roles whose users see the entry (the role of the API key they signed in with)."""
    active_only: bool = True
    """Hidden from participants still awaiting review or approval."""
    reviewers: bool = False
    """Also shown to the configured listing reviewers (``Settings.listing_reviewers``)."""

    def visible_to(self, role: str, status: str, reviewers: tuple[str, ...] = ()) -> bool:
        allowed = role in self.roles or (self.reviewers and role in reviewers)
        return allowed and (status == "active" or not self.active_only)

    def is_current(self, path: str) -> bool:
        if self.path == "/console/":
            return path.rstrip("/") == "/console"
        return path == self.path or path.startswith(self.path + "/")


NAV: list[NavEntry] = [
    NavEntry("nav.dashboard", "/console/", active_only=False),
    NavEntry("nav.participants", "/console/participants"),
    NavEntry("nav.catalog", "/console/catalog"),
    NavEntry("nav.my_resources", "/console/catalog/resources", roles=PROVIDERS),
    NavEntry("nav.my_products", "/console/catalog/products", roles=PROVIDERS),
    NavEntry(
        "nav.review", "/console/catalog/review", roles=frozenset({"regulator"}), reviewers=True
    ),
    NavEntry("nav.negotiations", "/console/contracts/negotiations", roles=PARTIES),
    NavEntry("nav.contracts", "/console/contracts/agreements", roles=PARTIES),
    NavEntry("nav.transfers", "/console/transfers", roles=PARTIES),
    NavEntry("nav.settlement", "/console/settlement", roles=PARTIES),
    NavEntry("nav.compute", "/console/compute", roles=PARTIES),
    NavEntry("nav.elements", "/console/compute/elements", roles=PROVIDERS),
    NavEntry("nav.psi", "/console/compute/psi", roles=PARTIES),
    NavEntry("nav.evidence_log", "/console/evidence", roles=OVERSIGHT),
    NavEntry("nav.assets", "/console/assets"),
    NavEntry("nav.compliance", "/console/compliance", roles=MARKET),
    NavEntry("nav.supervision", "/console/supervision", roles=OVERSIGHT),
]


def entries_for(
    role: str, status: str, reviewers: tuple[str, ...] = ("operator",)
) -> list[NavEntry]:
    return [entry for entry in NAV if entry.visible_to(role, status, reviewers)]


def current_path(entries: list[NavEntry], path: str) -> str | None:
    """The path of the entry the page belongs to: the longest one that contains it."""
    matching = [entry.path for entry in entries if entry.is_current(path)]
    return max(matching, key=len, default=None)
