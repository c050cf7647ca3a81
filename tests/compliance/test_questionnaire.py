"""The questionnaire is checked against the product's own classification (分类分级)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuchang.domains.compliance.questionnaire import BY_ID, QUESTIONS, Facts, check, check_types
from shuchang.errors import ValidationFailed

GENERAL = Facts(personal=False, sensitive=False, classification="general")
PERSONAL = Facts(personal=True, sensitive=False, classification="general")
SENSITIVE = Facts(personal=True, sensitive=True, classification="important")
IMPORTANT = Facts(personal=False, sensitive=False, classification="important")


def base(**overrides: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "source.origin": "public_authorized",
        "source.proof": "东瓯市数据局授权运营协议 DG-2026-01",
        "pi.contains": False,
        "important.contains": False,
        "cross_border.transfer": False,
        "security.measures": ["encryption", "access_control", "audit_log"],
        "security.mlps_level": "level2",
    }
    answers.update(overrides)
    return answers


def personal(**overrides: Any) -> dict[str, Any]:
    return base(
        **{
            "pi.contains": True,
            "pi.basis": "contract",
            "pi.deidentified": "deidentified",
            **overrides,
        }
    )


def important(**overrides: Any) -> dict[str, Any]:
    return base(
        **{
            "important.contains": True,
            "important.risk_assessment": "风评-2026-017",
            "important.officer": "王某（数据安全负责人）",
            "security.mlps_level": "level3",
            **overrides,
        }
    )


def _fails(answers: dict[str, Any], facts: Facts) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        check(answers, facts)
    assert caught.value.message_zh and caught.value.message_en
    return caught.value


def test_a_complete_general_questionnaire_passes() -> None:
    check(base(), GENERAL)


def test_personal_information_in_a_source_needs_yes_and_a_legal_basis() -> None:
    assert _fails(base(), PERSONAL).field == "answers.pi.contains"
    assert _fails(base(), PERSONAL).code == "compliance.contradicts_classification"
    missing = base(**{"pi.contains": True})
    assert _fails(missing, PERSONAL).field == "answers.pi.basis"
    check(personal(), PERSONAL)


def test_sensitive_information_needs_separate_consent_and_an_impact_assessment() -> None:
    answers = important(**personal())
    answers.update(
        {
            "important.contains": True,
            "important.risk_assessment": "风评-1",
            "important.officer": "王某",
            "security.mlps_level": "level3",
        }
    )
    assert _fails(answers, SENSITIVE).field == "answers.pi.impact_assessment"
    answers["pi.impact_assessment"] = "PIA-2026-003"
    check(answers, SENSITIVE)
    answers["pi.basis"] = "consent"
    assert _fails(answers, SENSITIVE).field == "answers.pi.basis"
    answers["pi.basis"] = "separate_consent"
    check(answers, SENSITIVE)


def test_important_data_needs_handling_answers_and_mlps_level_3() -> None:
    assert _fails(base(), IMPORTANT).code == "compliance.contradicts_classification"
    assert _fails(base(**{"important.contains": True}), IMPORTANT).field == (
        "answers.important.risk_assessment"
    )
    assert _fails(important(**{"security.mlps_level": "level2"}), IMPORTANT).field == (
        "answers.security.mlps_level"
    )
    check(important(), IMPORTANT)


def test_cross_border_needs_a_reference_and_important_data_the_security_assessment() -> None:
    abroad = base(**{"cross_border.transfer": True})
    assert _fails(abroad, GENERAL).field == "answers.cross_border.mechanism"
    abroad.update(
        {"cross_border.mechanism": "standard_contract", "cross_border.reference": "备案 2026-9"}
    )
    check(abroad, GENERAL)
    out = important(
        **{
            "cross_border.transfer": True,
            "cross_border.mechanism": "standard_contract",
            "cross_border.reference": "备案 2026-9",
        }
    )
    assert _fails(out, IMPORTANT).field == "answers.cross_border.mechanism"
    out["cross_border.mechanism"] = "security_assessment"
    check(out, IMPORTANT)


def test_unknown_questions_and_wrong_types_are_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_types({"pi.secret": True})
    assert caught.value.field == "answers.pi.secret"
    with pytest.raises(ValidationFailed) as caught:
        check_types({"security.measures": ["encryption", "magic"]})
    assert caught.value.field == "answers.security.measures"


@given(
    st.sampled_from(QUESTIONS),
    st.one_of(st.integers(), st.text(max_size=3), st.booleans(), st.none()),
)
def test_any_wrongly_typed_answer_is_refused_with_its_question(question: Any, value: Any) -> None:
    ok = {
        "bool": isinstance(value, bool),
        "text": isinstance(value, str) and bool(value.strip()),
        "choice": value in question.options,
        "multi": False,
    }[question.kind]
    if ok:
        check_types({question.id: value})
    else:
        with pytest.raises(ValidationFailed) as caught:
            check_types({question.id: value})
        assert caught.value.field == f"answers.{question.id}"
    assert question.id in BY_ID
