"""Console forms: browser form fields in, a domain request (or per-field messages) out.

A form never reaches a service half-checked: missing fields, bad JSON and values the domain
schema refuses (lengths, patterns) come back as messages next to their fields, in both
languages, and nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

import msgspec

from shuchang.domains.participants.identifiers import USCC_LENGTH, check_identifier, normalise
from shuchang.domains.participants.schemas import Action, Kind, RegisterParticipant, StatusChange
from shuchang.errors import ShuchangError, ValidationFailed
from shuchang.validation_messages import say_in_chinese
from shuchang.web.i18n import translate

KINDS: tuple[str, ...] = get_args(Kind)
ACTIONS: tuple[str, ...] = get_args(Action)
OPEN_ROLES = ("provider", "consumer", "service_firm")
"""Roles anyone may apply for; operator and regulator are registered by the operator."""
REQUIRED = ("kind", "name", "identifier")
OPTIONAL = ("name_en", "region", "contact_email")

_AT_FIELD = re.compile(r"\s*-\s*at `\$\.(\w+)[^`]*`$")
_MAX_LENGTH = re.compile(r"length <= (\d+)")
_PATTERN_MESSAGES = {"region": "check.region", "contact_email": "check.email"}


@dataclass(frozen=True)
class FieldError:
    """A message shown next to one field, in both languages."""

    zh: str
    en: str

    def say(self, language: str) -> str:
        return self.en if language == "en" else self.zh

    @classmethod
    def of(cls, key: str, **values: object) -> FieldError:
        return cls(translate("zh-CN", key, **values), translate("en", key, **values))

    @classmethod
    def from_error(cls, error: ShuchangError) -> FieldError:
        return cls(error.message_zh, error.message_en)


Errors = dict[str, FieldError]


def text(form: Mapping[str, Any], name: str) -> str:
    """One field's text, trimmed (a repeated field keeps its first value)."""
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def choices(form: Mapping[str, Any], name: str) -> list[str]:
    """A multi-valued field (checkboxes): the form parser gives a str for one, a list for many."""
    value = form.get(name)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def registration_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, to fill the form in again."""
    values: dict[str, Any] = {name: text(form, name) for name in (*REQUIRED, *OPTIONAL)}
    values["credential"] = text(form, "credential")
    values["roles"] = choices(form, "roles")
    return values


def _credential(raw: str) -> tuple[dict[str, Any] | None, FieldError | None]:
    if not raw:
        return None, None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None, FieldError.of("check.json")
    if not isinstance(parsed, dict):
        return None, FieldError.of("check.json")
    return parsed, None


def explain(error: msgspec.ValidationError) -> tuple[str | None, FieldError]:
    """msgspec's message ("Expected … - at `$.name`") as a field and a message in both tongues."""
    message = str(error)
    found = _AT_FIELD.search(message)
    field = found.group(1) if found else None
    bare = _AT_FIELD.sub("", message)
    too_long = _MAX_LENGTH.search(bare)
    if too_long and "`str`" in bare:
        return field, FieldError.of("check.too_long", n=int(too_long.group(1)))
    if "matching regex" in bare and field in _PATTERN_MESSAGES:
        return field, FieldError.of(_PATTERN_MESSAGES[field])
    return field, FieldError(say_in_chinese(bare), bare)


def _identifier(raw: str) -> tuple[str, FieldError | None]:
    """The code as the check reads it (full-width forms and spaces typed through an IME are
    normalised). A code longer than any identifier is refused here: the participants table
    holds 18 characters, and such a code can never pass the check anyway."""
    code = normalise(raw)
    if len(code) <= USCC_LENGTH:
        return code, None
    checked = check_identifier(code)
    return code, FieldError(checked.message_zh or "", checked.message_en or "")


def parse_registration(form: Mapping[str, Any]) -> tuple[RegisterParticipant | None, Errors]:
    """The application in the form, or the messages to show next to its fields."""
    values = registration_values(form)
    errors: Errors = {
        name: FieldError.of("check.missing") for name in (*REQUIRED, "roles") if not values[name]
    }
    credential, credential_error = _credential(values["credential"])
    if credential_error is not None:
        errors["credential"] = credential_error
    identifier, identifier_error = _identifier(values["identifier"])
    if identifier_error is not None and "identifier" not in errors:
        errors["identifier"] = identifier_error
    if errors:
        return None, errors
    fields: dict[str, Any] = {name: values[name] for name in (*REQUIRED, "roles")}
    fields.update({name: values[name] for name in OPTIONAL if values[name]})
    fields["identifier"], fields["credential"] = identifier, credential
    try:
        return msgspec.convert(fields, RegisterParticipant), {}
    except msgspec.ValidationError as exc:
        field, message = explain(exc)
        return None, {field or "form": message}


def parse_status_change(form: Mapping[str, Any]) -> StatusChange:
    """The operator's action and reason; a bad value is a :class:`ValidationFailed`."""
    fields: dict[str, Any] = {"action": text(form, "action")}
    if reason := text(form, "reason"):
        fields["reason"] = reason
    try:
        return msgspec.convert(fields, StatusChange)
    except msgspec.ValidationError as exc:
        field, message = explain(exc)
        raise ValidationFailed(
            message.en, message.zh, code="request.invalid_field", field=field
        ) from exc
