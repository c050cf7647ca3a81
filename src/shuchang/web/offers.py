"""Offers (使用策略) for people: a simple builder that writes ODRL, and ODRL said in words.

The product form's builder covers what most providers need — action, purpose, validity window,
maximum number of uses, regions of use and allowed recipient roles — and produces the ODRL
2.2 ``Offer`` the catalog stores. An offer the builder cannot express (prohibitions, duties,
logical constraints …) is edited as JSON instead. :func:`describe` turns any well-formed
offer into lines such as "用途：小微企业信贷风险评估；次数上限：10000".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, get_args

from shuchang.domains.participants.schemas import Role
from shuchang.policy import ACTIONS
from shuchang.web.i18n import translate

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
ROLES: tuple[str, ...] = get_args(Role)
RECIPIENT_ROLES = ("consumer", "provider", "service_firm")
BUILDER_ACTIONS = ("use", "read", "compute", "derive", "aggregate", "distribute")
assert set(BUILDER_ACTIONS) == set(ACTIONS)
_REGION = re.compile(r"^[1-8]\d{5}$")
_SEPARATORS = re.compile(r"[\s,;，；、]+")
_LOCAL_MINUTE = "%Y-%m-%dT%H:%M"
MAX_COUNT = 10**15
MAX_PURPOSE = 200


def split_list(raw: str) -> list[str]:
    """Items typed in one box: separated by spaces, commas, semicolons or 、 (any width)."""
    return [item for item in _SEPARATORS.split(raw) if item]


@dataclass
class Builder:
    """The builder's fields as the form holds them (text, so a bad value can be shown again)."""

    action: str = "use"
    purpose: str = ""
    valid_from: str = ""  # datetime-local, China time: 2026-01-01T09:00
    valid_until: str = ""
    max_uses: str = ""
    regions: str = ""
    recipient_roles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fault:
    """A builder field that cannot become ODRL, and the message key saying why."""

    field: str
    key: str


def _instant(local: str) -> datetime | None:
    """A datetime-local value (China time) as an aware datetime; None when not one."""
    try:
        parsed = datetime.fromisoformat(local)
    except ValueError:
        return None
    return parsed.replace(tzinfo=CHINA_TIME) if parsed.tzinfo is None else parsed


def _one_or_many(left: str, values: list[str], one: str = "eq") -> dict[str, Any]:
    if len(values) == 1:
        return {"leftOperand": left, "operator": one, "rightOperand": values[0]}
    return {"leftOperand": left, "operator": "isAnyOf", "rightOperand": values}


def _window(b: Builder, faults: list[Fault]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = _instant(b.valid_from) if b.valid_from else None
    end = _instant(b.valid_until) if b.valid_until else None
    if b.valid_from and start is None:
        faults.append(Fault("policy_valid_from", "offer.check_datetime"))
    if b.valid_until and end is None:
        faults.append(Fault("policy_valid_until", "offer.check_datetime"))
    if start and end and end <= start:
        faults.append(Fault("policy_valid_until", "offer.check_window"))
    if start:
        out.append({"leftOperand": "dateTime", "operator": "gteq", "rightOperand": _iso(start)})
    if end:
        out.append({"leftOperand": "dateTime", "operator": "lteq", "rightOperand": _iso(end)})
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _purpose(b: Builder, faults: list[Fault]) -> list[dict[str, Any]]:
    if len(b.purpose) > MAX_PURPOSE:
        faults.append(Fault("policy_purpose", "offer.check_purpose"))
        return []
    if not b.purpose:
        return []
    return [{"leftOperand": "purpose", "operator": "eq", "rightOperand": b.purpose}]


def _count(b: Builder, faults: list[Fault]) -> list[dict[str, Any]]:
    if not b.max_uses:
        return []
    raw = b.max_uses
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_COUNT):
        faults.append(Fault("policy_max_uses", "offer.check_count"))
        return []
    return [{"leftOperand": "count", "operator": "lteq", "rightOperand": str(int(raw))}]


def _audience(b: Builder, faults: list[Fault]) -> list[dict[str, Any]]:
    """Where the data may be used and which roles may receive it."""
    out: list[dict[str, Any]] = []
    regions = split_list(b.regions)
    if regions and not all(_REGION.match(r) for r in regions):
        faults.append(Fault("policy_regions", "check.region"))
    elif regions:
        out.append(_one_or_many("spatial", regions))
    if any(r not in ROLES for r in b.recipient_roles):
        faults.append(Fault("policy_recipient_roles", "offer.check_role"))
    elif b.recipient_roles:
        out.append(_one_or_many("recipientRole", b.recipient_roles))
    return out


def build(b: Builder) -> tuple[dict[str, Any] | None, list[Fault]]:
    """The ODRL offer of the builder's fields, or the faults of the fields that are wrong."""
    faults: list[Fault] = []
    if b.action not in BUILDER_ACTIONS:
        faults.append(Fault("policy_action", "offer.check_action"))
    constraints = [
        *_purpose(b, faults),
        *_window(b, faults),
        *_count(b, faults),
        *_audience(b, faults),
    ]
    if faults:
        return None, faults
    rule: dict[str, Any] = {"action": b.action}
    if constraints:
        rule["constraint"] = constraints
    return {"@type": "Offer", "permission": [rule]}, []


# --- back from ODRL to the builder (to edit a product) ------------------------------------


def _values(right: Any) -> list[str] | None:
    if isinstance(right, str):
        return [right]
    if isinstance(right, list) and right and all(isinstance(v, str) for v in right):
        return right
    return None


def _local(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    moment = _instant(value)
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(CHINA_TIME).strftime(_LOCAL_MINUTE)


def _fill(b: Builder, c: Mapping[str, Any]) -> bool:
    """Put one constraint into the builder; False when the builder cannot hold it."""
    left, op, right = c.get("leftOperand"), c.get("operator"), c.get("rightOperand")
    values = _values(right)
    if values is None or set(c) != {"leftOperand", "operator", "rightOperand"}:
        return False
    single = {"eq"} if len(values) == 1 and isinstance(right, str) else {"isAnyOf"}
    if left == "purpose" and op == "eq" and not b.purpose:
        b.purpose = values[0]
    elif left == "dateTime" and op == "gteq" and not b.valid_from and _local(right):
        b.valid_from = _local(right) or ""
    elif left == "dateTime" and op == "lteq" and not b.valid_until and _local(right):
        b.valid_until = _local(right) or ""
    elif left == "count" and op == "lteq" and not b.max_uses:
        b.max_uses = values[0]
    elif left == "spatial" and op in single and not b.regions:
        b.regions = " ".join(values)
    elif left == "recipientRole" and op in single and not b.recipient_roles:
        b.recipient_roles = list(values)
    else:
        return False
    return True


def to_builder(policy: Mapping[str, Any]) -> Builder | None:
    """The builder's fields for an offer the builder could have written, else None (edit the
    JSON instead)."""
    permissions = policy.get("permission")
    if set(policy) - {"@type", "permission"} or policy.get("@type") != "Offer":
        return None
    if not isinstance(permissions, list) or len(permissions) != 1:
        return None
    rule = permissions[0]
    if not isinstance(rule, dict) or set(rule) - {"action", "constraint"}:
        return None
    b = Builder(action=str(rule.get("action", "")))
    constraints = rule.get("constraint", [])
    if b.action not in BUILDER_ACTIONS or not isinstance(constraints, list):
        return None
    for c in constraints:
        if not isinstance(c, dict) or not _fill(b, c):
            return None
    return b


# --- ODRL in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One rule of an offer in words: "许可 · 使用" and its conditions."""

    rule: str
    conditions: str


Say = Callable[..., str]

_SIMPLE = {
    ("purpose", "eq"): "offer.purpose",
    ("purpose", "isAnyOf"): "offer.purpose",
    ("purpose", "isA"): "offer.purpose_within",
    ("purpose", "neq"): "offer.purpose_not",
    ("purpose", "isNoneOf"): "offer.purpose_not",
    ("dateTime", "gteq"): "offer.valid_from",
    ("dateTime", "gt"): "offer.valid_after",
    ("dateTime", "lteq"): "offer.valid_until",
    ("dateTime", "lt"): "offer.valid_before",
    ("dateTime", "eq"): "offer.valid_at",
    ("count", "lteq"): "offer.max_uses",
    ("count", "lt"): "offer.fewer_uses",
    ("count", "eq"): "offer.exact_uses",
    ("elapsedTime", "lteq"): "offer.elapsed",
    ("elapsedTime", "lt"): "offer.elapsed",
    ("spatial", "eq"): "offer.regions",
    ("spatial", "isAnyOf"): "offer.regions",
    ("spatial", "isPartOf"): "offer.regions",
    ("spatial", "neq"): "offer.regions_not",
    ("spatial", "isNoneOf"): "offer.regions_not",
    ("recipientRegion", "eq"): "offer.recipient_region",
    ("recipientRegion", "isAnyOf"): "offer.recipient_region",
    ("recipientRegion", "isPartOf"): "offer.recipient_region",
    ("recipientRegion", "neq"): "offer.recipient_region_not",
    ("recipientRegion", "isNoneOf"): "offer.recipient_region_not",
    ("recipientRole", "eq"): "offer.recipient_role",
    ("recipientRole", "isAnyOf"): "offer.recipient_role",
    ("recipientRole", "neq"): "offer.recipient_role_not",
    ("recipientRole", "isNoneOf"): "offer.recipient_role_not",
    ("recipientKind", "eq"): "offer.recipient_kind",
    ("recipientKind", "isAnyOf"): "offer.recipient_kind",
    ("recipientKind", "neq"): "offer.recipient_kind_not",
    ("recipientKind", "isNoneOf"): "offer.recipient_kind_not",
    ("recipientStatus", "eq"): "offer.recipient_status",
    ("recipientStatus", "isAnyOf"): "offer.recipient_status",
    ("fields", "isAnyOf"): "offer.fields",
    ("fields", "isAllOf"): "offer.fields",
    ("fields", "isNoneOf"): "offer.fields_not",
    ("payAmount", "eq"): "offer.pay_amount",
    ("epsilon", "lteq"): "offer.epsilon",
    ("epsilonPeriod", "eq"): "offer.epsilon_period",
}
_CODED = {"recipientRole": "role", "recipientKind": "kind", "recipientStatus": "status"}
_DURATION = re.compile(r"^P(\d+)([YMWD])$")
_LOGICAL = {"and": "offer.all_of", "or": "offer.any_of", "xone": "offer.one_of"}


def _moment(value: str) -> str:
    moment = _instant(value)
    if moment is None or moment.tzinfo is None:
        return value
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def _duration(value: str, say: Say) -> str:
    found = _DURATION.match(value)
    if not found:
        return value
    return say(f"offer.unit_{found.group(2)}", n=int(found.group(1)))


def _value(left: str, right: Any, say: Say) -> str:
    values = _values(right) or [str(right)]
    if left in _CODED:
        values = [say(f"{_CODED[left]}.{v}") for v in values]
    elif left == "dateTime":
        values = [_moment(v) for v in values]
    elif left == "elapsedTime":
        values = [_duration(v, say) for v in values]
    elif left == "epsilonPeriod":
        values = [say(f"offer.period_{v}") for v in values]
    elif left == "payAmount":
        values = [yuan(int(v)) if v.isdigit() else v for v in values]
    return say("offer.list_separator").join(values)


def _constraint(c: Any, say: Say) -> str:
    if not isinstance(c, dict):
        return str(c)
    logical = next((k for k in (*_LOGICAL, "andSequence") if k in c), None)
    if logical is not None:
        inner = c[logical] if isinstance(c[logical], list) else []
        parts = say("offer.separator").join(_constraint(i, say) for i in inner)
        return say(_LOGICAL.get(logical, "offer.in_order"), conditions=parts)
    left, op = str(c.get("leftOperand")), str(c.get("operator"))
    value = _value(left, c.get("rightOperand"), say)
    key = _SIMPLE.get((left, op))
    if key is None:
        return say("offer.generic", left=left, operator=say(f"operator.{op}"), value=value)
    return say(key, value=value)


def _rules(policy: Mapping[str, Any], kind: str, say: Say) -> list[Line]:
    out = []
    rules = policy.get(kind)
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        constraints = rule.get("constraint")
        parts = [_constraint(c, say) for c in constraints] if isinstance(constraints, list) else []
        for duty in rule.get("duty") or []:
            if isinstance(duty, dict):
                inner = duty.get("constraint") or []
                what = say("offer.separator").join(_constraint(c, say) for c in inner)
                action = say(f"duty.{duty.get('action')}")
                parts.append(say("offer.duty", action=action) + (f"（{what}）" if what else ""))
        heading = say(f"offer.{kind}", action=say(f"odrl_action.{rule.get('action')}"))
        conditions = say("offer.separator").join(parts) if parts else say("offer.unconditional")
        out.append(Line(heading, conditions))
    return out


def describe(policy: Mapping[str, Any], language: str) -> list[Line]:
    """Each permission, prohibition and obligation of ``policy`` in ``language``."""

    def say(key: str, **values: object) -> str:
        return translate(language, key, **values)

    return [
        line
        for kind in ("permission", "prohibition", "obligation")
        for line in _rules(policy, kind, say)
    ]


def yuan(fen: int | None) -> str:
    """An amount in fen as ``¥5,000.00`` (an empty string for no amount)."""
    if fen is None:
        return ""
    whole, cents = divmod(fen, 100)
    return f"¥{whole:,}.{cents:02d}"
