"""The compliance self-assessment questionnaire (合规自评估问卷), version ``2026.1``.

Five sections, each question with a stable id, a type and the condition that makes it
required. Answers are checked against the product's own classification (分类分级) as its
sources are registered, so a provider cannot answer its way past its own declarations:

* personal information in a source (个人信息) → ``pi.contains`` must be yes, with a legal basis
  under PIPL art. 13 (个人信息保护法第十三条) and the de-identification applied;
* sensitive personal information → a consent-based basis must be separate consent (单独同意,
  art. 29) and a personal-information protection impact assessment (个人信息保护影响评估,
  art. 55) must be referenced;
* important data (重要数据) → ``important.contains`` yes, a risk assessment (风险评估, 数据安全法
  第三十条), the data-security officer, and protection at MLPS level 3 or above (等保三级);
* cross-border transfer (数据出境) yes → a mechanism and its reference (assessment, standard
  contract filing or certification number); important data leaving the country needs the
  CAC security assessment (数据出境安全评估).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shuchang.errors import ValidationFailed

VERSION = "2026.1"
MAX_TEXT = 500


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # bool, choice, multi, text
    zh: str
    en: str
    options: tuple[str, ...] = ()


QUESTIONS: tuple[Question, ...] = (
    Question(
        "source.origin",
        "choice",
        "数据来源方式",
        "How the data was obtained",
        ("self_collected", "public_authorized", "licensed", "purchased"),
    ),
    Question(
        "source.proof",
        "text",
        "来源合法性依据（授权文件、采集依据、合同编号等）",
        "Evidence that the source is lawful (authorisation, collection basis, contract)",
    ),
    Question("pi.contains", "bool", "是否包含个人信息", "Does it contain personal information?"),
    Question(
        "pi.basis",
        "choice",
        "处理个人信息的合法性基础（个人信息保护法第十三条）",
        "Legal basis for processing personal information (PIPL art. 13)",
        (
            "consent",
            "separate_consent",
            "contract",
            "legal_duty",
            "public_health",
            "news",
            "disclosed",
            "other_law",
        ),
    ),
    Question(
        "pi.deidentified",
        "choice",
        "去标识化或匿名化处理",
        "De-identification applied",
        ("none", "deidentified", "anonymised"),
    ),
    Question(
        "pi.impact_assessment",
        "text",
        "个人信息保护影响评估报告编号（第五十五条）",
        "Reference of the PI protection impact assessment (art. 55)",
    ),
    Question("important.contains", "bool", "是否包含重要数据", "Does it contain important data?"),
    Question(
        "important.risk_assessment",
        "text",
        "数据安全风险评估报告编号（数据安全法第三十条）",
        "Reference of the data-security risk assessment (DSL art. 30)",
    ),
    Question("important.officer", "text", "数据安全负责人", "Data-security officer"),
    Question("cross_border.transfer", "bool", "是否向境外提供", "Is it transferred abroad?"),
    Question(
        "cross_border.mechanism",
        "choice",
        "出境合规路径",
        "Cross-border mechanism",
        ("security_assessment", "standard_contract", "certification", "exempt"),
    ),
    Question(
        "cross_border.reference",
        "text",
        "出境安全评估、标准合同备案或认证编号",
        "Assessment, standard-contract filing or certification reference",
    ),
    Question(
        "security.measures",
        "multi",
        "已采取的安全措施",
        "Security measures in place",
        ("encryption", "access_control", "audit_log", "masking", "backup"),
    ),
    Question(
        "security.mlps_level",
        "choice",
        "网络安全等级保护级别",
        "MLPS (等保) level",
        ("none", "level2", "level3", "level4"),
    ),
)
BY_ID = {q.id: q for q in QUESTIONS}
GRADE = {"general": 0, "important": 1, "core": 2}
Answers = dict[str, Any]


@dataclass(frozen=True)
class Facts:
    """What the product's sources declare (the strictest over all of them)."""

    personal: bool
    sensitive: bool
    classification: str


def _fault(
    question: str, en: str, zh: str, code: str = "compliance.answer_invalid"
) -> ValidationFailed:
    return ValidationFailed(en, zh, code=code, field=f"answers.{question}")


def _typed(q: Question, value: Any) -> None:
    ok = {
        "bool": isinstance(value, bool),
        "text": isinstance(value, str) and 0 < len(value.strip()) <= MAX_TEXT,
        "choice": value in q.options,
        "multi": isinstance(value, list)
        and len(set(value)) == len(value)
        and all(v in q.options for v in value),
    }[q.kind]
    if not ok:
        allowed = "/".join(q.options) if q.options else q.kind
        raise _fault(q.id, f"{q.id} must be {allowed}", f"“{q.zh}”的回答不合法（{allowed}）")


def check_types(answers: Answers) -> None:
    """Every answer names a known question and has its type (drafts may be incomplete)."""
    for key, value in answers.items():
        q = BY_ID.get(key)
        if q is None:
            raise _fault(
                key, f"No question {key} in questionnaire {VERSION}", f"问卷中没有问题 {key}"
            )
        _typed(q, value)


def required(answers: Answers, facts: Facts) -> list[str]:
    """The questions that must be answered, given the answers so far and the facts."""
    needed = [
        "source.origin",
        "source.proof",
        "pi.contains",
        "important.contains",
        "cross_border.transfer",
        "security.measures",
        "security.mlps_level",
    ]
    if answers.get("pi.contains") is True:
        needed += ["pi.basis", "pi.deidentified"]
    if facts.sensitive:
        needed.append("pi.impact_assessment")
    if answers.get("important.contains") is True:
        needed += ["important.risk_assessment", "important.officer"]
    if answers.get("cross_border.transfer") is True:
        needed += ["cross_border.mechanism", "cross_border.reference"]
    return needed


def check(answers: Answers, facts: Facts) -> None:
    """A complete, consistent questionnaire, or the first problem (naming its question)."""
    check_types(answers)
    _contradictions(answers, facts)
    for qid in required(answers, facts):
        if qid not in answers or answers[qid] in ([], ""):
            q = BY_ID[qid]
            raise _fault(
                qid, f"{qid} must be answered", f"须回答“{q.zh}”", "compliance.answer_required"
            )
    _consistent(answers, facts)


def _contradictions(answers: Answers, facts: Facts) -> None:
    if facts.personal and answers.get("pi.contains", True) is not True:
        raise _fault(
            "pi.contains",
            "The product's sources are registered as holding personal information",
            "产品来源资源登记为含个人信息，回答与分类分级不一致",
            "compliance.contradicts_classification",
        )
    important = GRADE[facts.classification] >= GRADE["important"]
    if important and answers.get("important.contains", True) is not True:
        raise _fault(
            "important.contains",
            "The product's sources are classified as important data",
            "产品来源资源定级为重要数据，回答与分类分级不一致",
            "compliance.contradicts_classification",
        )


def _consistent(answers: Answers, facts: Facts) -> None:
    if facts.sensitive and answers.get("pi.basis") == "consent":
        raise _fault(
            "pi.basis",
            "Sensitive personal information needs separate consent (PIPL art. 29)",
            "敏感个人信息须取得单独同意（个人信息保护法第二十九条）",
        )
    if answers["important.contains"] is True and answers["security.mlps_level"] in (
        "none",
        "level2",
    ):
        raise _fault(
            "security.mlps_level",
            "Important data needs MLPS level 3 or above",
            "重要数据须按等保三级及以上保护",
        )
    if (
        answers["important.contains"] is True
        and answers["cross_border.transfer"] is True
        and answers.get("cross_border.mechanism") != "security_assessment"
    ):
        raise _fault(
            "cross_border.mechanism",
            "Important data leaves the country only after the CAC security assessment",
            "重要数据出境须通过数据出境安全评估",
        )


def facts_of(sources: list[Any]) -> Facts:
    """Facts from the product's source resource versions (catalog ResourceOut)."""
    return Facts(
        personal=any(s.personal_info for s in sources),
        sensitive=any(s.sensitive_personal_info for s in sources),
        classification=max(
            (s.classification for s in sources), key=GRADE.__getitem__, default="general"
        ),
    )
