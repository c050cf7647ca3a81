"""Catalog forms (资源登记、产品制作、审核、检索): browser fields in, catalog requests out.

Like :mod:`.forms`, nothing reaches a service half-checked: what the form can tell by itself
(a missing title, an amount that is not money, a field name a column cannot have) comes back
next to its field in both languages; what only the service knows comes back the same way
through :func:`place`, which turns the service's ``field`` (``fields[2].name``,
``policy.permission[0]…``) into the name of the input that holds it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, get_args, get_type_hints
from urllib.parse import urlencode

import msgspec

from shuchang.domains.catalog.schemas import (
    Classification,
    Frequency,
    PriceModel,
    ProductIn,
    ProductKind,
    ProductOut,
    ResourceIn,
    ResourceOut,
    ReviewDecision,
)
from shuchang.domains.catalog.schemas import Field as ColumnField
from shuchang.domains.catalog.search import Query
from shuchang.errors import ShuchangError
from shuchang.validation_messages import say_in_chinese
from shuchang.web.forms import Errors, FieldError, choices, text
from shuchang.web.offers import Builder, build, split_list, to_builder

CLASSIFICATIONS: tuple[str, ...] = get_args(Classification)
FREQUENCIES: tuple[str, ...] = get_args(Frequency)
PRODUCT_KINDS: tuple[str, ...] = get_args(ProductKind)
# Tiers are set through the API or CLI (a list the form does not edit); the form offers the rest.
PRICE_MODELS: tuple[str, ...] = tuple(m for m in get_args(PriceModel) if m != "tiered")
PERIODS = ("month", "quarter", "year")
_COLUMN = get_type_hints(ColumnField)
FIELD_TYPES: tuple[str, ...] = get_args(_COLUMN["type"])
SENSITIVITIES: tuple[str, ...] = get_args(_COLUMN["sensitivity"])
FIELD_ROLES: tuple[str, ...] = get_args(_COLUMN["role"])
LOCATION_TYPES = ("sql", "file", "http")
FILE_FORMATS = ("csv", "jsonl", "parquet", "other")
HTTP_METHODS = ("GET", "POST")
INDUSTRY_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRST")
"""GB/T 4754-2017 国民经济行业分类: the section letters (门类)."""
SORTS = ("relevance", "newest", "price_asc", "price_desc")
DOC_TYPES = ("resource", "product")
MAX_TAGS_IN_SEARCH = 5
MAX_YUAN = Decimal(10**10)  # the catalog stores at most 10^12 fen

_AT_PATH = re.compile(r"\s*-\s*at `\$\.?([^`]*)`$")
_ROW_INPUT = re.compile(r"^fields-(\d+)-(name|type|description|sensitivity|role)$")
_INDUSTRY = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")
_REGION_PREFIX = re.compile(r"^[1-8]\d{0,5}$")
_LENGTH = re.compile(r"length <= (\d+)")
_PATTERN_KEYS = {
    "name": "catalog.check_field_name",
    "tags": "catalog.check_tag",
    "regions": "check.region",
    "industry": "catalog.check_industry",
    "table": "catalog.check_table",
    "url": "catalog.check_url",
}


# --- shared ---------------------------------------------------------------------------------


def parse_yuan(raw: str) -> tuple[int | None, FieldError | None]:
    """``5000`` / ``5,000.50`` / ``¥12.5`` 元 as fen; None for an empty box."""
    cleaned = raw.strip().lstrip("¥￥").replace(",", "").replace("，", "").strip()
    if not cleaned:
        return None, None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None, FieldError.of("catalog.check_money")
    if (
        not amount.is_finite()
        or amount < 0
        or amount > MAX_YUAN
        or amount != amount.quantize(Decimal("0.01"))
    ):
        return None, FieldError.of("catalog.check_money")
    return int(amount * 100), None


def fen_to_yuan_text(fen: int | None) -> str:
    """The amount as the user would type it again: ``5000`` or ``12.50``."""
    if fen is None:
        return ""
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}" if cents else str(whole)


def explain_path(error: msgspec.ValidationError) -> tuple[str, FieldError]:
    """msgspec's message as (path such as ``fields[0].name``, message in both languages)."""
    message = str(error)
    found = _AT_PATH.search(message)
    path = found.group(1) if found else ""
    bare = _AT_PATH.sub("", message)
    leaf = re.sub(r"\[\d+\]", "", path.rsplit(".", 1)[-1])
    too_long = _LENGTH.search(bare)
    if too_long and "`str`" in bare:
        return path, FieldError.of("check.too_long", n=int(too_long.group(1)))
    if too_long and "`array`" in bare:
        return path, FieldError.of("catalog.too_many", n=int(too_long.group(1)))
    if "matching regex" in bare and leaf in _PATTERN_KEYS:
        return path, FieldError.of(_PATTERN_KEYS[leaf])
    return path, FieldError(say_in_chinese(bare), bare)


def place(path: str | None, inputs: Callable[[str], str | None]) -> str:
    """The input that shows a message about ``path``; ``form`` when no input holds it."""
    if not path:
        return "form"
    return inputs(path) or "form"


def service_error(error: ShuchangError, inputs: Callable[[str], str | None]) -> Errors:
    return {place(error.field, inputs): FieldError.from_error(error)}


def split_tags(raw: str) -> list[str]:
    return list(dict.fromkeys(split_list(raw)))


# --- search ---------------------------------------------------------------------------------


@dataclass
class SearchForm:
    """The search page's filters as typed, the query they make and the messages about them."""

    values: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    query: Query | None = None
    errors: Errors = field(default_factory=dict)

    def url(self, **changes: str | None) -> str:
        """This search with some filters changed (None removes one), from its first page."""
        values = {**self.values, "cursor": None, **changes}
        pairs = [(k, v) for k, v in values.items() if v] + [("tag", t) for t in self.tags]
        return "/console/catalog" + (f"?{urlencode(pairs)}" if pairs else "")

    def with_tag(self, tag: str) -> str:
        if tag in self.tags or len(self.tags) >= MAX_TAGS_IN_SEARCH:
            return self.url()
        return SearchForm(dict(self.values), [*self.tags, tag]).url()

    def without_tag(self, tag: str) -> str:
        return SearchForm(dict(self.values), [t for t in self.tags if t != tag]).url()

    def page(self, cursor: str) -> str:
        return self.url(cursor=cursor)

    @property
    def active(self) -> list[tuple[str, str]]:
        """The filters in force, as (name, value), for the chips that remove them."""
        names = ("type", "kind", "classification", "industry", "region", "price_min", "price_max")
        return [(n, self.values[n]) for n in names if self.values.get(n)]


SEARCH_INPUTS = (
    "q",
    "type",
    "kind",
    "classification",
    "industry",
    "region",
    "price_min",
    "price_max",
    "sort",
    "cursor",
)
_LIMITS = {"q": 200, "cursor": 500}


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def parse_search(params: Mapping[str, Any], limit: int) -> SearchForm:
    """The filters of the search page's query string (unknown choices are ignored)."""
    values = {name: text(params, name)[: _LIMITS.get(name, 100)] for name in SEARCH_INPUTS}
    values["type"] = _choice(values["type"], DOC_TYPES)
    values["kind"] = _choice(values["kind"], PRODUCT_KINDS)
    values["classification"] = _choice(values["classification"], CLASSIFICATIONS)
    values["sort"] = _choice(values["sort"], SORTS)
    values["industry"] = values["industry"].upper()
    tags = list(dict.fromkeys(t[:50] for t in choices(params, "tag")))[:MAX_TAGS_IN_SEARCH]
    form = SearchForm(values, tags)
    if values["industry"] and not _INDUSTRY.match(values["industry"]):
        form.errors["industry"] = FieldError.of("catalog.check_industry")
    if values["region"] and not _REGION_PREFIX.match(values["region"]):
        form.errors["region"] = FieldError.of("catalog.check_region_prefix")
    price_min, min_error = parse_yuan(values["price_min"])
    price_max, max_error = parse_yuan(values["price_max"])
    for name, problem in (("price_min", min_error), ("price_max", max_error)):
        if problem is not None:
            form.errors[name] = problem
    if price_min is not None and price_max is not None and price_min > price_max:
        form.errors["price_min"] = FieldError.of("catalog.check_price_range")
    if form.errors:
        return form
    form.query = Query(
        q=values["q"] or None,
        doc_type=values["type"] or None,
        kind=values["kind"] or None,
        classification=values["classification"] or None,
        industry=values["industry"] or None,
        region=values["region"] or None,
        tags=tags,
        price_min=price_min,
        price_max=price_max,
        sort=values["sort"] or ("relevance" if values["q"] else "newest"),
        cursor=values["cursor"] or None,
        limit=limit,
    )
    return form


# --- resources ------------------------------------------------------------------------------

RESOURCE_TEXTS = (
    "title",
    "title_en",
    "description",
    "description_en",
    "source",
    "legal_basis",
    "update_frequency",
    "industry",
    "classification",
    "regions",
    "tags",
    "temporal_start",
    "temporal_end",
    "location_type",
    "location_path",
    "location_format",
    "location_table",
    "location_connection",
    "location_url",
    "location_method",
)
RESOURCE_REQUIRED = (
    "title",
    "description",
    "source",
    "update_frequency",
    "industry",
    "classification",
)
LOCATION_REQUIRED = {"file": "location_path", "sql": "location_table", "http": "location_url"}
ROW_PARTS = ("name", "type", "description", "sensitivity", "role")


def blank_row(key: int) -> dict[str, Any]:
    return {
        "key": key,
        "name": "",
        "type": "string",
        "description": "",
        "sensitivity": "general",
        "role": "attribute",
    }


def _rows(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The field table's rows in the order shown; their keys need not be contiguous (rows
    added by htmx or removed in the browser keep their numbers)."""
    found: dict[int, dict[str, Any]] = {}
    for name in form:
        matched = _ROW_INPUT.match(name)
        if matched:
            key = int(matched.group(1))
            found.setdefault(key, blank_row(key))[matched.group(2)] = text(form, name)
    return [found[key] for key in sorted(found)]


def resource_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, to fill the form in again."""
    values: dict[str, Any] = {name: text(form, name) for name in RESOURCE_TEXTS}
    values["personal_info"] = bool(text(form, "personal_info"))
    values["sensitive_personal_info"] = bool(text(form, "sensitive_personal_info"))
    values["location_type"] = values["location_type"] or "sql"
    rows = _rows(form)
    removed = text(form, "remove_field")
    if removed.isdigit():
        rows = [row for row in rows if row["key"] != int(removed)]
    if text(form, "add_field") or not rows:
        rows.append(blank_row(max((row["key"] for row in rows), default=-1) + 1))
    values["rows"] = rows
    return values


def new_resource_values() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(RESOURCE_TEXTS, "")
    values.update(
        update_frequency="daily",
        classification="general",
        location_type="sql",
        location_format="csv",
        location_connection="default",
        location_method="GET",
        personal_info=False,
        sensitive_personal_info=False,
        rows=[blank_row(0), blank_row(1)],
    )
    return values


def resource_values_from(r: ResourceOut) -> dict[str, Any]:
    """The revise form, filled in with a version of the resource."""
    values = new_resource_values()
    values.update(
        {
            name: getattr(r, name) or ""
            for name in (*RESOURCE_REQUIRED, "title_en", "description_en", "legal_basis")
        }
    )
    values["regions"] = " ".join(r.regions)
    values["tags"] = " ".join(r.tags)
    values["temporal_start"] = r.temporal_start.isoformat() if r.temporal_start else ""
    values["temporal_end"] = r.temporal_end.isoformat() if r.temporal_end else ""
    values["personal_info"], values["sensitive_personal_info"] = (
        r.personal_info,
        r.sensitive_personal_info,
    )
    values["rows"] = [
        {**blank_row(i), **{k: str(v) for k, v in f.items() if k in ROW_PARTS}}
        for i, f in enumerate(r.fields)
    ]
    location = r.location or {}
    values["location_type"] = str(location.get("type", "sql"))
    for key, value in location.items():
        if key != "type":
            values[f"location_{key}"] = str(value)
    return values


def _location(values: Mapping[str, Any]) -> dict[str, Any]:
    kind = values["location_type"]
    if kind == "file":
        return {
            "type": "file",
            "path": values["location_path"],
            "format": values["location_format"] or "csv",
        }
    if kind == "http":
        return {
            "type": "http",
            "url": values["location_url"],
            "method": values["location_method"] or "GET",
        }
    return {
        "type": "sql",
        "table": values["location_table"],
        "connection": values["location_connection"] or "default",
    }


def _date(values: Mapping[str, Any], name: str, errors: Errors) -> date | None:
    if not values[name]:
        return None
    try:
        return date.fromisoformat(values[name])
    except ValueError:
        errors[name] = FieldError.of("catalog.check_date")
        return None


def resource_inputs(rows: list[dict[str, Any]]) -> Callable[[str], str | None]:
    """Where a message about a ResourceIn path is shown, given the rows as they were sent."""

    def inputs(path: str) -> str | None:
        head, _, rest = path.partition(".")
        matched = re.match(r"^fields\[(\d+)\]$", head)
        if matched and int(matched.group(1)) < len(rows):
            key = rows[int(matched.group(1))]["key"]
            return f"fields-{key}-{rest}" if rest in ROW_PARTS else f"fields-{key}-name"
        name = re.sub(r"\[\d+\]$", "", head)
        if name == "location":
            return f"location_{rest}" if rest and rest != "type" else "location_type"
        return (
            name
            if name in (*RESOURCE_TEXTS, "fields", "personal_info", "sensitive_personal_info")
            else None
        )

    return inputs


def _row_errors(rows: list[dict[str, Any]], errors: Errors) -> list[dict[str, Any]]:
    """The filled-in rows as ResourceIn fields; a row with a description but no name is an
    error, a row left wholly blank is skipped."""
    filled = []
    for row in rows:
        if not row["name"] and not row["description"]:
            continue
        if not row["name"]:
            errors[f"fields-{row['key']}-name"] = FieldError.of("check.missing")
        filled.append(row)
    if not filled:
        errors["fields"] = FieldError.of("catalog.check_no_fields")
    return filled


def parse_resource(form: Mapping[str, Any]) -> tuple[ResourceIn | None, Errors, dict[str, Any]]:
    """The resource in the form, or the messages to show; also the values to show again."""
    values = resource_values(form)
    errors: Errors = {n: FieldError.of("check.missing") for n in RESOURCE_REQUIRED if not values[n]}
    required_location = LOCATION_REQUIRED.get(values["location_type"])
    if required_location is None:
        errors["location_type"] = FieldError.of("check.missing")
    elif not values[required_location]:
        errors[required_location] = FieldError.of("check.missing")
    rows = _row_errors(values["rows"], errors)
    start, end = _date(values, "temporal_start", errors), _date(values, "temporal_end", errors)
    if errors:
        return None, errors, values
    fields: dict[str, Any] = {name: values[name] for name in RESOURCE_REQUIRED}
    fields.update(
        {n: values[n] for n in ("title_en", "description_en", "legal_basis") if values[n]}
    )
    fields["industry"] = values["industry"].upper()
    fields["fields"] = [{part: row[part] for part in ROW_PARTS} for row in rows]
    fields["location"] = _location(values)
    fields["regions"] = split_list(values["regions"])
    fields["tags"] = split_tags(values["tags"])
    fields["personal_info"] = values["personal_info"]
    fields["sensitive_personal_info"] = values["sensitive_personal_info"]
    fields["temporal_start"], fields["temporal_end"] = start, end
    try:
        return msgspec.convert(fields, ResourceIn), {}, values
    except msgspec.ValidationError as exc:
        path, message = explain_path(exc)
        return None, {place(path, resource_inputs(rows)): message}, values


# --- products -------------------------------------------------------------------------------

PRODUCT_TEXTS = (
    "kind",
    "title",
    "title_en",
    "description",
    "description_en",
    "tags",
    "price_model",
    "price_amount",
    "price_period",
    "transformation",
    "policy_action",
    "policy_purpose",
    "policy_valid_from",
    "policy_valid_until",
    "policy_max_uses",
    "policy_regions",
    "policy_json",
)
PRODUCT_REQUIRED = ("kind", "title", "description", "price_model")


def product_values(form: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name) for name in PRODUCT_TEXTS}
    values["policy_json"] = str(form.get("policy_json") or "").strip()  # keep its layout
    values["resources"] = choices(form, "resources")
    values["policy_recipient_roles"] = choices(form, "policy_recipient_roles")
    return values


def new_product_values() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(PRODUCT_TEXTS, "")
    values.update(
        kind="dataset",
        price_model="subscription",
        price_period="year",
        policy_action="use",
        resources=[],
        policy_recipient_roles=["consumer"],
    )
    return values


def product_values_from(p: ProductOut) -> dict[str, Any]:
    """The edit form, filled in with the product (an offer the builder cannot write goes to
    the advanced JSON box)."""
    values = new_product_values()
    values.update(
        kind=p.kind,
        title=p.title,
        title_en=p.title_en or "",
        description=p.description,
        description_en=p.description_en or "",
        tags=" ".join(p.tags),
        price_model=p.price.model,
        price_amount=fen_to_yuan_text(p.price.amount_fen) if p.price.amount_fen else "",
        price_period=p.price.period or "",
        transformation=p.transformation or "",
        resources=[str(s.resource_id) for s in p.sources],
    )
    builder = to_builder(p.policy)
    if builder is None:
        values["policy_json"] = json.dumps(p.policy, ensure_ascii=False, indent=2)
        values["policy_recipient_roles"] = []
    else:
        values.update(builder_values(builder))
    return values


def builder_values(b: Builder) -> dict[str, Any]:
    return {
        "policy_action": b.action,
        "policy_purpose": b.purpose,
        "policy_valid_from": b.valid_from,
        "policy_valid_until": b.valid_until,
        "policy_max_uses": b.max_uses,
        "policy_regions": b.regions,
        "policy_recipient_roles": list(b.recipient_roles),
    }


def builder_of(values: Mapping[str, Any]) -> Builder:
    return Builder(
        action=values["policy_action"] or "use",
        purpose=values["policy_purpose"],
        valid_from=values["policy_valid_from"],
        valid_until=values["policy_valid_until"],
        max_uses=values["policy_max_uses"],
        regions=values["policy_regions"],
        recipient_roles=list(values["policy_recipient_roles"]),
    )


def offer_of(values: Mapping[str, Any]) -> tuple[dict[str, Any] | None, Errors]:
    """The ODRL offer: the advanced JSON when given, else what the builder makes."""
    if values["policy_json"]:
        try:
            parsed = json.loads(values["policy_json"])
        except ValueError:
            return None, {"policy_json": FieldError.of("check.json")}
        if not isinstance(parsed, dict):
            return None, {"policy_json": FieldError.of("check.json")}
        return parsed, {}
    offer, faults = build(builder_of(values))
    return offer, {f.field: FieldError.of(f.key) for f in faults}


def product_inputs(values: Mapping[str, Any]) -> Callable[[str], str | None]:
    policy_input = "policy_json" if values["policy_json"] else "policy"

    def inputs(path: str) -> str | None:
        head = re.split(r"[.\[]", path, maxsplit=1)[0]
        if head == "policy":
            return policy_input
        if head == "price":
            return "price_period" if path.endswith("period") else "price_amount"
        return head if head in (*PRODUCT_TEXTS, "resources") else None

    return inputs


def _price(values: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    model = values["price_model"]
    fen, problem = parse_yuan(values["price_amount"])
    if problem is not None:
        errors["price_amount"] = problem
    elif model in PRICE_MODELS and model != "free" and not fen:
        errors["price_amount"] = FieldError.of("catalog.check_amount_needed")
    if model == "subscription" and values["price_period"] not in PERIODS:
        errors["price_period"] = FieldError.of("catalog.check_period")
    price: dict[str, Any] = {"model": model, "amount_fen": 0 if model == "free" else fen or 0}
    if model == "subscription":
        price["period"] = values["price_period"]
    return price


def _resource_ids(values: Mapping[str, Any], errors: Errors) -> list[uuid.UUID]:
    ids = []
    for raw in values["resources"]:
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            errors["resources"] = FieldError.of("catalog.check_no_resources")
    if not values["resources"]:
        errors["resources"] = FieldError.of("catalog.check_no_resources")
    return ids


def parse_product(form: Mapping[str, Any]) -> tuple[ProductIn | None, Errors, dict[str, Any]]:
    values = product_values(form)
    errors: Errors = {n: FieldError.of("check.missing") for n in PRODUCT_REQUIRED if not values[n]}
    resource_ids = _resource_ids(values, errors)
    price = _price(values, errors)
    offer, offer_errors = offer_of(values)
    errors.update(offer_errors)
    if errors:
        return None, errors, values
    fields: dict[str, Any] = {n: values[n] for n in ("kind", "title", "description")}
    fields.update(
        {n: values[n] for n in ("title_en", "description_en", "transformation") if values[n]}
    )
    fields["tags"] = split_tags(values["tags"])
    fields["resources"], fields["price"], fields["policy"] = resource_ids, price, offer
    try:
        return msgspec.convert(fields, ProductIn), {}, values
    except msgspec.ValidationError as exc:
        path, message = explain_path(exc)
        return None, {place(path, product_inputs(values)): message}, values


# --- review ---------------------------------------------------------------------------------


def parse_review(form: Mapping[str, Any]) -> tuple[ReviewDecision | None, Errors]:
    """The reviewer's decision; reasons are one a line."""
    raw = str(form.get("reasons") or "")
    reasons = [line.strip() for line in raw.splitlines() if line.strip()]
    fields: dict[str, Any] = {"decision": text(form, "decision"), "reasons": reasons}
    try:
        return msgspec.convert(fields, ReviewDecision), {}
    except msgspec.ValidationError as exc:
        path, message = explain_path(exc)
        return None, {"reasons" if path.startswith("reasons") else "decision": message}
