"""Compute jobs (计算任务): submit under an agreement, answer from cache, cancel, read.

Submitting checks everything that can be checked before running, in one transaction that
changes nothing on refusal: the caller is the agreement's consumer, the product is compute-
only with a profile, the query validates (template with typed parameters, or ad-hoc SQL),
ε is within the profile's per-query maximum, the agreement's policy permits ``compute``
with this ε given what the consumer spent this period (``decide_use``), and the product's
lifetime cap has room. A byte-identical normalised query already answered for this consumer
on the same data is answered again from its stored release at no ε. Otherwise the job is
queued; :mod:`.execution` runs it and debits the ledger when (and only if) it releases.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.compute import ledger, sqlcheck
from shuchang.domains.compute import plan as p
from shuchang.domains.compute.errors import BudgetExhausted, UseDenied
from shuchang.domains.compute.models import ComputeJob
from shuchang.domains.compute.profile import check_param
from shuchang.domains.compute.profiles import Loaded, load
from shuchang.domains.compute.psi_filters import restriction
from shuchang.domains.compute.reasons import reject
from shuchang.domains.compute.sandbox import Restriction
from shuchang.domains.compute.schemas import JobIn
from shuchang.domains.contracts import AgreementOut, UseRequest, decide_use, find_agreement
from shuchang.domains.participants import SYSTEM, Actor
from shuchang.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shuchang.policy import PrivacyBudget, compiled

OVERSIGHT = ("operator", "regulator", "system")
FINAL = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Terms:
    """What one job is held to: its agreement, product profile and privacy budget."""

    agreement: AgreementOut
    loaded: Loaded
    budget: PrivacyBudget

    @property
    def product_id(self) -> uuid.UUID:
        return self.loaded.product.product_id


def _agreement(session: Session, actor: Actor, agreement_id: uuid.UUID) -> AgreementOut:
    out = find_agreement(session, agreement_id)
    parties = (out.provider_id, out.consumer_id) if out else ()
    if out is None or (actor.participant_id not in parties and actor.role not in OVERSIGHT):
        raise NotFound("Agreement not found", "合约不存在", code="agreement.not_found")
    return out


def terms_of(session: Session, actor: Actor, agreement_id: uuid.UUID) -> Terms:
    agreement = _agreement(session, actor, agreement_id)
    product_id = uuid.UUID(agreement.dataset_id.removeprefix("urn:uuid:"))
    loaded = load(session, product_id)
    budget = compiled(agreement.document["agreement"]).privacy_budget
    if budget is None:
        raise UseDenied(
            "The agreement states no privacy budget (epsilon), so it permits no computation",
            "合约未约定隐私预算（epsilon），不能进行计算",
            code="compute.no_budget",
        )
    return Terms(agreement, loaded, budget)


def _plan(loaded: Loaded, data: JobIn) -> p.Plan:
    if (data.sql is None) == (data.template is None):
        raise InvalidInput(
            "Give either sql or template", "请提供 sql 或 template 之一", field="sql"
        )
    if data.sql is not None:
        if not loaded.profile.adhoc_sql:
            raise reject("adhoc_disabled")
        return sqlcheck.validate(data.sql, loaded.catalogue)
    template = next((t for t in loaded.profile.templates if t.name == data.template), None)
    if template is None:
        raise reject("template", str(data.template))
    declared = {param.name: param for param in template.params}
    unknown = sorted(set(data.params) - set(declared))
    if unknown:
        raise reject("parameter", f"{unknown[0]} is not a parameter of {template.name}")
    values = {
        name: check_param(param, data.params.get(name), loaded.catalogue)
        for name, param in declared.items()
    }
    return sqlcheck.bind(template.sql, values, loaded.catalogue)


def dry_run(session: Session, actor: Actor, data: JobIn) -> tuple[str, list[str], int]:
    """(normalised SQL, output columns, cells) of a query, or its QueryRejected."""
    terms = terms_of(session, actor, data.agreement_id)
    plan = _plan(terms.loaded, data)
    cells = 1
    for g in plan.group_by:
        cells *= terms.loaded.catalogue.dimensions[g].size
    columns = [o if isinstance(o, str) else o.alias for o in plan.output]
    return p.canonical_sql(plan), columns, cells


def cache_key(
    terms: Terms, canonical: str, epsilon_micro: int, psi_filter: str | None = None
) -> str:
    """Byte-identical normalised query + ε + the exact data and profile it runs on (and the
    PSI filter it is restricted to, if any)."""
    source = terms.loaded.source
    body: list[object] = [
        canonical,
        epsilon_micro,
        str(source.resource_id),
        source.version,
        terms.loaded.row.revision,
    ]
    if psi_filter is not None:
        body.append(psi_filter)
    return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()


def psi_filter(session: Session, terms: Terms, name: str) -> Restriction:
    """The rows a job is restricted to: a completed filter-mode PSI session of the job's own
    agreement, on the profile's person column (NotFound otherwise, with nothing revealed
    about other agreements' sessions)."""
    try:
        found = restriction(session, SYSTEM, name)
    except NotFound:
        found = None
    if found is None or found.agreement_id != terms.agreement.id:
        raise NotFound(
            "No completed PSI filter of that name under this agreement",
            "该合约下没有该名称的已完成求交过滤集",
            code="psi.filter_not_found",
            field="psi_filter",
        )
    if found.column != terms.loaded.catalogue.person:
        raise ValidationFailed(
            f"The PSI filter holds {found.column!r}, not the person column "
            f"{terms.loaded.catalogue.person!r} of this product's compute profile",
            "求交过滤集的字段不是该产品计算配置中的个体标识字段",
            code="compute.psi_filter_column",
            field="psi_filter",
        )
    return Restriction(found.column, tuple(sorted(found.values)))


def _epsilon(terms: Terms, data: JobIn) -> int:
    profile = terms.loaded.profile
    asked = profile.epsilon_default if data.epsilon is None else data.epsilon
    if asked > profile.epsilon_max:
        raise ValidationFailed(
            f"ε {asked} exceeds this product's per-query maximum {profile.epsilon_max}",
            f"ε {asked} 超过该产品单次查询上限 {profile.epsilon_max}",
            code="compute.epsilon_too_large",
            field="epsilon",
        )
    return ledger.micro(asked)


def use_request(job_or_terms: Terms, data: JobIn | None, epsilon: int, spent: int) -> UseRequest:
    agreement = job_or_terms.agreement
    return UseRequest(
        action="compute",
        purpose=(data.purpose if data and data.purpose else agreement.purpose),
        region=data.region if data else None,
        epsilon=Decimal(epsilon) / ledger.MICRO,
        epsilon_spent=Decimal(spent) / ledger.MICRO,
        consume=False,
    )


def check_budget(
    session: Session, actor: Actor, terms: Terms, request: UseRequest, lifetime_used: int
) -> None:
    """Raise BudgetExhausted / UseDenied unless this use is permitted right now."""
    decision = decide_use(session, actor, terms.agreement.id, request)
    asked, spent = request.epsilon or Decimal(0), request.epsilon_spent or Decimal(0)
    if not decision.permitted:
        if spent + asked > terms.budget.epsilon:
            left = max(terms.budget.epsilon - spent, Decimal(0))
            raise BudgetExhausted(
                f"ε {asked} asked, {left} left of {terms.budget.epsilon} this period; "
                "nothing was released",
                f"本次 ε {asked}，本期剩余 {left}（共 {terms.budget.epsilon}），未发布任何结果",
                extra={"epsilon_remaining": float(left), "reason_en": decision.reason_en},
            )
        raise UseDenied(decision.reason_en, decision.reason_zh)
    cap = ledger.micro(terms.loaded.profile.lifetime_epsilon)
    if lifetime_used + ledger.micro(asked) > cap:
        raise BudgetExhausted(
            "The product's lifetime privacy budget is used up; nothing was released",
            "该产品的总隐私预算已用尽，未发布任何结果",
            code="compute.lifetime_exhausted",
        )


def submit(session: Session, actor: Actor, data: JobIn) -> ComputeJob:
    """Check and queue a job, or answer it from the cache (see the module docstring)."""
    terms = terms_of(session, actor, data.agreement_id)
    if actor.participant_id != terms.agreement.consumer_id:
        raise PermissionDenied(
            "Only the agreement's consumer submits computations under it",
            "只有合约的使用方可以在该合约下提交计算",
            code="compute.not_consumer",
        )
    plan = _plan(terms.loaded, data)
    canonical = p.canonical_sql(plan)
    epsilon = _epsilon(terms, data)
    if data.psi_filter is not None:
        psi_filter(session, terms, data.psi_filter)
    key = cache_key(terms, canonical, epsilon, data.psi_filter)
    period = ledger.period_key(terms.budget.period, utcnow())
    job = ComputeJob(
        id=uuid.uuid4(),
        agreement_id=terms.agreement.id,
        product_id=terms.product_id,
        consumer_id=terms.agreement.consumer_id,
        provider_id=terms.agreement.provider_id,
        template=data.template,
        params=dict(data.params),
        submitted_sql=data.sql,
        normalised_sql=canonical,
        cache_key=key,
        profile_revision=terms.loaded.row.revision,
        epsilon_micro=epsilon,
        charged_micro=0,
        period=period,
        purpose=data.purpose,
        region=data.region,
        psi_filter=data.psi_filter,
        created_by=actor.ref,
    )
    hit = _cached(session, job)
    if hit is not None:
        return _answer_from(session, actor, terms, job, hit)
    spent = ledger.spent(session, job.product_id, ledger.consumer_account(job.consumer_id, period))
    used = ledger.spent(session, job.product_id, ledger.PRODUCT)
    check_budget(session, actor, terms, use_request(terms, data, epsilon, spent), used)
    job.state = "queued"
    session.add(job)
    session.flush()
    evidence.record(
        session, "compute.job_submitted", f"compute_job:{job.id}", actor.ref, _facts(job)
    )
    return job


def _cached(session: Session, job: ComputeJob) -> ComputeJob | None:
    return session.scalars(
        select(ComputeJob)
        .where(
            ComputeJob.product_id == job.product_id,
            ComputeJob.consumer_id == job.consumer_id,
            ComputeJob.cache_key == job.cache_key,
            ComputeJob.state == "succeeded",
            ComputeJob.cached_from.is_(None),
        )
        .limit(1)
    ).first()


def _answer_from(
    session: Session, actor: Actor, terms: Terms, job: ComputeJob, hit: ComputeJob
) -> ComputeJob:
    """The same released answer again, at no ε (still a counted use of the agreement)."""
    request = msgspec.structs.replace(
        use_request(terms, None, 0, 0), purpose=job.purpose or terms.agreement.purpose, consume=True
    )
    decision = decide_use(session, actor, terms.agreement.id, request)
    if not decision.permitted:
        raise UseDenied(decision.reason_en, decision.reason_zh)
    now = utcnow()
    job.state, job.cached_from = "succeeded", hit.id
    job.result = {**(hit.result or {}), "cached": True}
    job.input_digest, job.result_digest = hit.input_digest, hit.result_digest
    job.started_at = job.finished_at = now
    session.add(job)
    session.flush()
    evidence.record(
        session,
        "compute.job_answered_from_cache",
        f"compute_job:{job.id}",
        actor.ref,
        {**_facts(job), "cached_from": str(hit.id), "charged_micro": 0},
    )
    return job


def _facts(job: ComputeJob) -> dict[str, Any]:
    """Who, under which agreement, what query, what ε: every job evidence entry carries it."""
    return {
        "agreement": str(job.agreement_id),
        "product": str(job.product_id),
        "consumer": str(job.consumer_id),
        "provider": str(job.provider_id),
        "normalised_sql": job.normalised_sql,
        "template": job.template,
        "params": job.params,
        "epsilon_micro": job.epsilon_micro,
        "period": job.period,
        "profile_revision": job.profile_revision,
        **({"psi_filter": job.psi_filter} if job.psi_filter else {}),
    }


def facts(job: ComputeJob) -> dict[str, Any]:
    return _facts(job)


def load_job(
    session: Session, actor: Actor, job_id: uuid.UUID, *, lock: bool = False
) -> ComputeJob:
    job = session.get(ComputeJob, job_id, with_for_update=lock)
    parties = (job.consumer_id, job.provider_id) if job else ()
    if job is None or (actor.participant_id not in parties and actor.role not in OVERSIGHT):
        raise NotFound("Compute job not found", "计算任务不存在", code="compute.job_not_found")
    return job


def cancel(session: Session, actor: Actor, job_id: uuid.UUID) -> ComputeJob:
    """Consumer or provider: a queued job is cancelled at once, a running one is asked to
    stop (its sandbox query is interrupted and nothing is released or charged)."""
    job = load_job(session, actor, job_id, lock=True)
    if job.state in FINAL:
        raise InvalidTransition(
            f"The job is already {job.state}",
            f"任务已{ {'succeeded': '完成', 'failed': '失败', 'cancelled': '取消'}[job.state] }",
            code="compute.job_finished",
        )
    job.cancel_requested = True
    if job.state == "queued":
        job.state, job.finished_at = "cancelled", utcnow()
    evidence.record(
        session, "compute.job_cancelled", f"compute_job:{job.id}", actor.ref, {"state": job.state}
    )
    return job
