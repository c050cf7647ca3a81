"""What the compute pages show (隐私计算页面): a viewer's compute agreements with their
budgets, a provider's compute-only products with their profiles, jobs and answers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.catalog.models import Product
from shuchang.domains.compute import jobs, profiles, views
from shuchang.domains.compute.models import ComputeProfile
from shuchang.domains.compute.profile import allowed_values
from shuchang.domains.compute.schemas import BudgetOut, JobOut
from shuchang.domains.contracts import AgreementOut
from shuchang.domains.contracts.views import list_agreements
from shuchang.errors import ShuchangError
from shuchang.web.pages import Viewer


@dataclass(frozen=True)
class AgreementRow:
    agreement: AgreementOut
    product_title: str
    budget: BudgetOut | None
    problem: ShuchangError | None


@dataclass(frozen=True)
class ProductRow:
    id: uuid.UUID
    title: str
    status: str
    revision: int | None


def agreement_rows(s: Session, user: Viewer) -> list[AgreementRow]:
    """The viewer's agreements on compute-only products, with the ε left (or why none)."""
    rows: list[AgreementRow] = []
    for agreement in list_agreements(s, user.actor, limit=200):
        product = s.get(Product, _product_id(agreement))
        if product is None or product.kind != "compute_only":
            continue
        try:
            budget: BudgetOut | None = views.budget(s, user.actor, agreement.id)
            problem = None
        except ShuchangError as exc:
            budget, problem = None, exc
        rows.append(AgreementRow(agreement, product.title, budget, problem))
    return rows


def _product_id(agreement: AgreementOut) -> uuid.UUID | None:
    try:
        return uuid.UUID(agreement.dataset_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def product_rows(s: Session, user: Viewer) -> list[ProductRow]:
    if user.role != "provider":
        return []
    found = s.execute(
        select(Product.id, Product.title, Product.status, ComputeProfile.revision)
        .outerjoin(ComputeProfile, ComputeProfile.product_id == Product.id)
        .where(Product.provider_id == user.actor.participant_id, Product.kind == "compute_only")
        .order_by(Product.created_at.desc())
    )
    return [ProductRow(*row) for row in found]


@dataclass(frozen=True)
class QueryPage:
    agreement: AgreementOut
    product_title: str
    budget: BudgetOut
    profile: dict[str, Any]
    jobs: list[JobOut]
    choices: dict[str, list[Any]]  # "template.param" → the values a select offers


def query_page(s: Session, user: Viewer, agreement_id: uuid.UUID) -> QueryPage:
    terms = jobs.terms_of(s, user.actor, agreement_id)
    return QueryPage(
        terms.agreement,
        terms.loaded.product.title,
        views.budget(s, user.actor, agreement_id),
        terms.loaded.row.profile,
        views.list_jobs(s, user.actor, agreement_id=agreement_id, limit=20),
        {
            f"{t.name}.{param.name}": values[:1000]
            for t in terms.loaded.profile.templates
            for param in t.params
            if (values := list(allowed_values(param, terms.loaded.catalogue)))
        },
    )


def profile_text(s: Session, user: Viewer, product_id: uuid.UUID) -> tuple[str, int | None]:
    """The product's profile as editable JSON (a starting skeleton when none is set)."""
    row = s.get(ComputeProfile, product_id)
    if row is None:
        skeleton = {
            "table": "data",
            "person": "",
            "dimensions": [{"name": "", "values": []}],
            "measures": [{"name": "", "lower": 0, "upper": 1}],
            "templates": [],
            "k": 10,
            "contribution_bound": 1,
            "epsilon_default": 0.5,
            "epsilon_max": 1.0,
            "lifetime_epsilon": 100.0,
        }
        return json.dumps(skeleton, ensure_ascii=False, indent=2), None
    out = profiles.get_profile(s, user.actor, product_id)
    return json.dumps(out.profile, ensure_ascii=False, indent=2), out.revision
