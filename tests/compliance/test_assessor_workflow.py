"""The assessor workflow (评估流程): submit → assign → request changes → resubmit → pass with a
signed certificate; failures, wrong actors, and the listing gate of Settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from test_questionnaire import base, personal

import factories
from market_factories import actor_of, personal_body, provider_product
from shuchang.cli import cli
from shuchang.domains.catalog import products
from shuchang.domains.catalog.schemas import ReviewDecision
from shuchang.domains.compliance import require_passed, service, views
from shuchang.domains.compliance.schemas import AnswersIn, AssessorDecision, AssignIn, Finding
from shuchang.domains.participants import SYSTEM
from shuchang.errors import Duplicate, InvalidTransition, PermissionDenied, ValidationFailed
from shuchang.platform import Platform


def test_the_round_trip_to_a_certificate(platform: Platform) -> None:
    operator = factories.operator(platform)
    firm = factories.participant(platform, roles=("service_firm",), name="东瓯数据合规评估中心")
    other_firm = factories.participant(platform, roles=("service_firm",))
    listed = provider_product(platform, status="submitted")
    assessor = actor_of(firm, "service_firm")
    with platform.unit() as s:
        review = service.start(
            s, listed.actor, listed.product_id, AnswersIn(answers={"pi.contains": False})
        )
    with pytest.raises(Duplicate), platform.unit() as s:
        service.start(s, listed.actor, listed.product_id, AnswersIn(answers={}))
    with pytest.raises(ValidationFailed) as caught, platform.unit() as s:
        service.submit(s, listed.actor, review.id)
    assert caught.value.code == "compliance.answer_required"
    with platform.unit() as s:
        service.save(s, listed.actor, review.id, AnswersIn(answers=base()))
        assert service.submit(s, listed.actor, review.id).status == "submitted"
    with pytest.raises(PermissionDenied), platform.unit() as s:
        service.assign(s, assessor, review.id, AssignIn(assessor_id=other_firm.id))
    with platform.unit() as s:
        assigned = service.assign(
            s, actor_of(operator, "operator"), review.id, AssignIn(assessor_id=firm.id)
        )
    assert assigned.status == "assigned" and assigned.assessor_id == firm.id
    with pytest.raises(PermissionDenied), platform.unit() as s:
        service.decide(
            s,
            actor_of(other_firm, "service_firm"),
            review.id,
            AssessorDecision(decision="pass"),
            platform.settings,
        )
    with pytest.raises(ValidationFailed), platform.unit() as s:
        service.decide(
            s, assessor, review.id, AssessorDecision(decision="request_changes"), platform.settings
        )
    ask = AssessorDecision(
        decision="request_changes",
        findings=[Finding(text="请补充授权协议编号", question="source.proof")],
    )
    with platform.unit() as s:
        assert (
            service.decide(s, assessor, review.id, ask, platform.settings).status
            == "changes_requested"
        )
        answers = base(**{"source.proof": "东瓯市数据局授权运营协议 DG-2026-01 第三条"})
        service.save(s, listed.actor, review.id, AnswersIn(answers=answers))
        assert service.submit(s, listed.actor, review.id).status == "assigned"
        passed = service.decide(
            s, assessor, review.id, AssessorDecision(decision="pass"), platform.settings
        )
    assert passed.status == "passed" and passed.certificate is not None
    assert passed.certificate.number.startswith("HG-")
    with platform.unit(write=False) as s:
        status = views.product_status(s, SYSTEM, listed.product_id)
        document = views.certificate_document(s, SYSTEM, review.id)
    assert status.status == "passed" and status.current
    assert document["certificate"]["assessor"]["name"] == "东瓯数据合规评估中心"
    with pytest.raises(InvalidTransition), platform.unit() as s:
        service.decide(
            s,
            assessor,
            review.id,
            AssessorDecision(decision="fail", findings=[Finding(text="x")]),
            platform.settings,
        )


def test_answers_contradicting_the_classification_cannot_be_submitted(platform: Platform) -> None:
    listed = provider_product(
        platform, resource=personal_body(), kind="compute_only", status="draft"
    )
    with platform.unit() as s:
        review = service.start(s, listed.actor, listed.product_id, AnswersIn(answers=base()))
    with pytest.raises(ValidationFailed) as caught, platform.unit() as s:
        service.submit(s, listed.actor, review.id)
    assert caught.value.field == "answers.pi.contains"


def test_only_the_provider_answers(platform: Platform) -> None:
    listed = provider_product(platform)
    stranger = factories.participant(platform, roles=("provider",))
    with pytest.raises(PermissionDenied), platform.unit() as s:
        service.start(s, actor_of(stranger, "provider"), listed.product_id, AnswersIn(answers={}))


def _passed(platform: Platform, listed_status: str = "submitted") -> tuple[object, object]:
    firm = factories.participant(platform, roles=("service_firm",))
    listed = provider_product(platform, status=listed_status)
    assessor = actor_of(firm, "service_firm")
    with platform.unit() as s:
        review = service.start(s, listed.actor, listed.product_id, AnswersIn(answers=base()))
        service.submit(s, listed.actor, review.id)
        service.assign(s, assessor, review.id, AssignIn())
        service.decide(s, assessor, review.id, AssessorDecision(decision="pass"), platform.settings)
    return listed, review


def test_the_listing_gate_needs_a_current_pass(platform: Platform) -> None:
    waiting = provider_product(platform, status="submitted")
    approve = ReviewDecision(decision="approve")
    with pytest.raises(InvalidTransition) as caught, platform.unit() as s:
        products.review(s, SYSTEM, waiting.product_id, approve, ("operator",), gate=require_passed)
    assert caught.value.code == "listing.compliance_required"
    listed, _ = _passed(platform)
    with platform.unit() as s:
        out = products.review(
            s, SYSTEM, listed.product_id, approve, ("operator",), gate=require_passed
        )  # type: ignore[attr-defined]
    assert out.status == "listed"


def test_the_setting_turns_the_gate_on_for_the_api(platform: Platform) -> None:
    from shuchang.app import create_app

    gated = dataclasses.replace(platform.settings, listing_requires_compliance=True)
    shared = Platform(settings=gated, engine=platform.engine, sessions=platform.sessions)
    operator = factories.operator(platform)
    waiting = provider_product(platform, status="submitted")
    with TestClient(create_app(gated, shared)) as client:
        response = client.post(
            f"/api/v1/catalog/products/{waiting.product_id}/review",
            json={"decision": "approve"},
            headers=operator.headers,
        )
        assert (
            response.status_code == 409 and response.json()["code"] == "listing.compliance_required"
        )
        seen = client.get(
            f"/api/v1/compliance/products/{waiting.product_id}", headers=operator.headers
        )
        assert seen.json()["status"] == "none"


def test_the_certificate_verifies_offline(
    platform: Platform, client: TestClient, tmp_path: Path
) -> None:  # type: ignore[type-arg]
    _, review = _passed(platform)
    operator = factories.operator(platform)
    body = client.get(
        f"/api/v1/compliance/reviews/{review.id}/certificate.json", headers=operator.headers
    )  # type: ignore[attr-defined]
    assert body.status_code == 200
    path = tmp_path / "hg.json"
    path.write_bytes(body.content)
    trust = client.get("/api/v1/assets/issuer", headers=operator.headers).json()["public_key"]
    runner = CliRunner()
    ok = runner.invoke(cli, ["compliance", "verify", str(path), "--trust", trust])
    assert ok.exit_code == 0, ok.output
    path.write_bytes(body.content.replace(b'"passed"', b'"failed"'))
    bad = runner.invoke(cli, ["compliance", "verify", str(path)])
    assert bad.exit_code == 1 and "document.signature_invalid" in bad.output
    assert personal()  # the personal answers helper stays importable for other modules
