"""Registration rules (数据资产登记): who may apply for what, review, duplicates, expiry, and
that a refused request changes nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from assets_support import application, register_asset
from sqlalchemy import func, select

import factories
from market_factories import actor_of, provider_product
from shuchang.db import utcnow
from shuchang.domains.assets import lifecycle, numbers, service, views
from shuchang.domains.assets.models import AssetCertificate, AssetRegistration
from shuchang.domains.assets.schemas import AssetDecision, AssetRevision
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.errors import (
    Duplicate,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shuchang.platform import Platform


def _counts(platform: Platform) -> tuple[int, int]:
    with platform.unit(write=False) as s:
        return (
            s.scalar(select(func.count()).select_from(AssetRegistration)) or 0,
            s.scalar(select(func.count()).select_from(OutboxEntry)) or 0,
        )


def test_a_holder_applies_and_the_operator_approves_with_a_certificate(platform: Platform) -> None:
    reg = register_asset(platform)
    out = reg.registration
    assert out.status == "registered"
    assert out.certificate is not None and numbers.is_valid(out.certificate.number)
    assert out.certificate.number.startswith("DZ-330300-")
    assert out.rights == ["holding", "operating"]
    assert len(out.content_digest) == 64
    with platform.unit(write=False) as s:
        kinds = [
            e.kind
            for e in s.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.subject == f"asset:{reg.id}")
                .order_by(OutboxEntry.id)
            )
        ]
    assert kinds == ["asset.applied", "asset.certificate_issued"]


def test_another_participants_product_is_refused_and_nothing_changes(platform: Platform) -> None:
    listed = provider_product(platform)
    other = factories.participant(platform, roles=("provider",))
    before = _counts(platform)
    with pytest.raises(PermissionDenied) as caught, platform.unit() as s:
        service.apply(
            s, actor_of(other, "provider"), application(listed.product_id), platform.settings
        )
    assert caught.value.code == "asset.not_holder"
    assert _counts(platform) == before


def test_someone_elses_unlisted_product_is_not_even_found(platform: Platform) -> None:
    draft = provider_product(platform, status="draft")
    other = factories.participant(platform, roles=("provider",))
    with pytest.raises(NotFound) as caught, platform.unit() as s:
        service.apply(
            s, actor_of(other, "provider"), application(draft.product_id), platform.settings
        )
    assert caught.value.code == "asset.product_not_found"


@pytest.mark.parametrize("status", ["draft", "submitted"])
def test_own_products_must_be_listed(platform: Platform, status: str) -> None:
    own = provider_product(platform, status=status)
    with pytest.raises(InvalidTransition) as caught, platform.unit() as s:
        service.apply(s, own.actor, application(own.product_id), platform.settings)
    assert caught.value.code == "asset.product_not_listed"


def test_consumers_cannot_apply(platform: Platform) -> None:
    listed = provider_product(platform)
    consumer = factories.participant(platform, roles=("consumer",))
    with pytest.raises(PermissionDenied) as caught, platform.unit() as s:
        service.apply(
            s, actor_of(consumer, "consumer"), application(listed.product_id), platform.settings
        )
    assert caught.value.code == "role.forbidden"


def test_one_live_registration_per_product(platform: Platform) -> None:
    reg = register_asset(platform)
    with pytest.raises(Duplicate) as caught, platform.unit() as s:
        service.apply(s, reg.listed.actor, application(reg.listed.product_id), platform.settings)
    assert caught.value.code == "asset.duplicate"
    assert caught.value.extra["registration_id"] == str(reg.id)


def test_an_expired_certificate_frees_the_product_and_the_sweep_records_it(
    platform: Platform,
) -> None:
    reg = register_asset(platform)
    with platform.unit() as s:
        c = s.scalars(select(AssetCertificate)).one()
        c.valid_until = utcnow() - timedelta(seconds=1)
    with platform.unit(write=False) as s:
        assert views.detail(s, reg.listed.actor, reg.id).registration.status == "expired"
    with platform.unit() as s:
        again = service.apply(
            s, reg.listed.actor, application(reg.listed.product_id), platform.settings
        )
    assert again.status == "applied"
    with platform.unit(write=False) as s:
        assert s.get(AssetRegistration, reg.id).status == "expired"  # type: ignore[union-attr]
        kinds = s.scalars(select(OutboxEntry.kind).where(OutboxEntry.subject == f"asset:{reg.id}"))
        assert "asset.certificate_expired" in list(kinds)


def test_return_needs_reasons_then_the_holder_revises(platform: Platform) -> None:
    operator = factories.operator(platform)
    listed = provider_product(platform)
    reviewer = actor_of(operator, "operator")
    with platform.unit() as s:
        applied = service.apply(s, listed.actor, application(listed.product_id), platform.settings)
    with pytest.raises(ValidationFailed), platform.unit() as s:
        service.review(s, reviewer, applied.id, AssetDecision(decision="return"), platform.settings)
    with platform.unit() as s:
        returned = service.review(
            s,
            reviewer,
            applied.id,
            AssetDecision(decision="return", reasons=["资产描述须说明数据规模"]),
            platform.settings,
        )
    assert returned.status == "returned" and returned.reasons == ["资产描述须说明数据规模"]
    with pytest.raises(InvalidTransition), platform.unit() as s:
        service.review(
            s, reviewer, applied.id, AssetDecision(decision="approve"), platform.settings
        )
    revision = AssetRevision(
        rights=["holding"], description="企业登记数据集，约 120 万条记录，按日更新。"
    )
    with platform.unit() as s:
        revised = service.revise(s, listed.actor, applied.id, revision, platform.settings)
        approved = service.review(
            s, reviewer, applied.id, AssetDecision(decision="approve"), platform.settings
        )
    assert revised.status == "applied" and approved.status == "registered"
    assert approved.rights == ["holding"]


def test_a_service_firm_may_review_but_a_consumer_may_not(platform: Platform) -> None:
    factories.operator(platform)
    firm = factories.participant(platform, roles=("service_firm",))
    consumer = factories.participant(platform, roles=("consumer",))
    listed = provider_product(platform)
    with platform.unit() as s:
        applied = service.apply(s, listed.actor, application(listed.product_id), platform.settings)
    with pytest.raises(PermissionDenied), platform.unit() as s:
        service.review(
            s,
            actor_of(consumer, "consumer"),
            applied.id,
            AssetDecision(decision="approve"),
            platform.settings,
        )
    with platform.unit() as s:
        done = service.review(
            s,
            actor_of(firm, "service_firm"),
            applied.id,
            AssetDecision(decision="approve"),
            platform.settings,
        )
    assert done.status == "registered" and done.reviewer == f"participant:{firm.id}"


def test_validity_is_capped_by_the_setting(platform: Platform) -> None:
    listed = provider_product(platform)
    capped = dataclasses.replace(platform.settings, asset_certificate_years=2)
    with pytest.raises(ValidationFailed) as caught, platform.unit() as s:
        service.apply(s, listed.actor, application(listed.product_id, valid_years=3), capped)
    assert caught.value.field == "valid_years"


def test_the_operator_revokes_and_the_holder_cancels(platform: Platform) -> None:
    first, second = register_asset(platform), None
    second = register_asset(platform, first.operator)
    with platform.unit() as s:
        revoked = lifecycle.revoke(
            s, actor_of(first.operator, "operator"), first.id, "登记信息不实"
        )
        cancelled = lifecycle.cancel(s, second.listed.actor, second.id, "资产已处置")
    assert revoked.status == "revoked" and revoked.certificate.status == "revoked"  # type: ignore[union-attr]
    assert cancelled.status == "cancelled"
    with pytest.raises(InvalidTransition), platform.unit() as s:
        lifecycle.revoke(s, actor_of(first.operator, "operator"), first.id, "again")


def test_numbers_are_unique_and_counted_per_region_and_year(platform: Platform) -> None:
    operator = factories.operator(platform)
    numbers_seen = [
        register_asset(platform, operator).registration.certificate.number for _ in range(3)
    ]  # type: ignore[union-attr]
    assert len(set(numbers_seen)) == 3
    assert [n.split("-")[3] for n in numbers_seen] == ["000001", "000002", "000003"]


def test_applications_are_private_and_the_register_is_public(platform: Platform) -> None:
    listed = provider_product(platform)
    consumer = actor_of(factories.participant(platform, roles=("consumer",)), "consumer")
    with platform.unit() as s:
        applied = service.apply(s, listed.actor, application(listed.product_id), platform.settings)
    with pytest.raises(NotFound), platform.unit(write=False) as s:
        views.detail(s, consumer, applied.id)
    with platform.unit(write=False) as s:
        assert views.listing(s, consumer) == []
    registered = register_asset(platform)
    with platform.unit(write=False) as s:
        assert [r.id for r in views.listing(s, consumer)] == [registered.id]
        assert views.detail(s, consumer, registered.id).registration.status == "registered"
