"""Reading jobs and budgets for the API, the CLI and the console."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.compute import ledger
from shuchang.domains.compute.jobs import OVERSIGHT, terms_of
from shuchang.domains.compute.models import ComputeJob
from shuchang.domains.compute.schemas import BudgetOut, JobOut, ResultOut
from shuchang.domains.participants import Actor


def job_out(job: ComputeJob, actor: Actor) -> JobOut:
    """The job as ``actor`` may see it: the released answer goes to the consumer (and to
    oversight), the provider's job log shows the query, ε and digests but not the answer."""
    sees_answer = actor.participant_id == job.consumer_id or actor.role in OVERSIGHT
    result = msgspec.convert(job.result, ResultOut) if job.result and sees_answer else None
    return JobOut(
        id=job.id,
        agreement_id=job.agreement_id,
        product_id=job.product_id,
        consumer_id=job.consumer_id,
        provider_id=job.provider_id,
        state=job.state,
        template=job.template,
        normalised_sql=job.normalised_sql,
        epsilon=ledger.epsilon_of(job.epsilon_micro),
        epsilon_charged=ledger.epsilon_of(job.charged_micro),
        error=job.error,
        result=result,
        cached_from=job.cached_from,
        input_digest=job.input_digest,
        result_digest=job.result_digest,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def list_jobs(
    session: Session,
    actor: Actor,
    *,
    product_id: uuid.UUID | None = None,
    agreement_id: uuid.UUID | None = None,
    state: str | None = None,
    limit: int = 100,
) -> list[JobOut]:
    """Newest first: a consumer's own jobs, a provider's job log, or everything (oversight)."""
    stmt = select(ComputeJob).order_by(ComputeJob.created_at.desc()).limit(min(limit, 500))
    if actor.role not in OVERSIGHT:
        stmt = stmt.where(
            or_(
                ComputeJob.consumer_id == actor.participant_id,
                ComputeJob.provider_id == actor.participant_id,
            )
        )
    if product_id is not None:
        stmt = stmt.where(ComputeJob.product_id == product_id)
    if agreement_id is not None:
        stmt = stmt.where(ComputeJob.agreement_id == agreement_id)
    if state:
        stmt = stmt.where(ComputeJob.state == state)
    return [job_out(job, actor) for job in session.scalars(stmt)]


def budget(session: Session, actor: Actor, agreement_id: uuid.UUID) -> BudgetOut:
    """What is left now: this period's budget of the agreement and the product's lifetime."""
    terms = terms_of(session, actor, agreement_id)
    consumer = terms.agreement.consumer_id
    period = ledger.period_key(terms.budget.period, utcnow())
    spent = ledger.spent(session, terms.product_id, ledger.consumer_account(consumer, period))
    used = ledger.spent(session, terms.product_id, ledger.PRODUCT)
    cap = ledger.micro(terms.loaded.profile.lifetime_epsilon)
    limit = ledger.micro(terms.budget.epsilon)
    return BudgetOut(
        agreement_id=agreement_id,
        product_id=terms.product_id,
        consumer_id=consumer,
        period=period,
        period_budget=ledger.epsilon_of(limit),
        period_spent=ledger.epsilon_of(spent),
        period_remaining=ledger.epsilon_of(max(limit - spent, 0)),
        lifetime_cap=ledger.epsilon_of(cap),
        lifetime_spent=ledger.epsilon_of(used),
        lifetime_remaining=ledger.epsilon_of(max(cap - used, 0)),
        epsilon_default=terms.loaded.profile.epsilon_default,
        epsilon_max=terms.loaded.profile.epsilon_max,
    )
