"""Small builders for policies and request contexts used by the policy tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from shuchang.policy import Context, Decision, Recipient, decide

CST = timezone(timedelta(hours=8), "Asia/Shanghai")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=CST)
PURPOSE = "小微企业信贷风险评估"


def atom(left: str, operator: str, right: str | list[str]) -> dict[str, Any]:
    return {"leftOperand": left, "operator": operator, "rightOperand": right}


def rule(action: str = "use", *constraints: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"action": action, **extra}
    if constraints:
        body["constraint"] = list(constraints)
    return body


def agreement(
    *permissions: dict[str, Any],
    prohibitions: list[dict[str, Any]] | None = None,
    obligations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "@type": "Agreement",
        "@id": "urn:uuid:agreement-1",
        "target": "urn:uuid:dataset-1",
        "permission": list(permissions),
    }
    if prohibitions:
        policy["prohibition"] = prohibitions
    if obligations:
        policy["obligation"] = obligations
    return policy


def context(**facts: Any) -> Context:
    """A request that satisfies the usual agreement unless ``facts`` say otherwise."""
    recipient = {"kind": "enterprise", "status": "active", "region": "330302", "role": "consumer"}
    recipient.update(facts.pop("recipient", {}))
    defaults: dict[str, Any] = {
        "now": NOW,
        "purpose": PURPOSE,
        "region": "330302",
        "recipient": Recipient(**recipient),
        "fields": (),
        "uses": 0,
        "agreed_at": NOW - timedelta(days=10),
    }
    return Context(**{**defaults, **facts})


def decide_one(
    constraint: dict[str, Any], action: str = "read", kind: str = "permission", **facts: Any
) -> Decision:
    """Decide ``action`` under a policy holding just ``constraint`` in one rule."""
    if kind == "permission":
        policy = agreement(rule("use", constraint))
    else:
        policy = agreement(rule("use"), prohibitions=[rule("use", constraint)])
    return decide(policy, action, context(**facts))


def outcome(constraint: dict[str, Any], kind: str = "permission", **facts: Any) -> bool | None:
    """The constraint's own three-valued outcome, read from the decision's trace."""
    decision = decide_one(constraint, kind=kind, **facts)
    traced = next(r for r in decision.rules if r.kind == kind)
    return traced.constraints[0].satisfied
