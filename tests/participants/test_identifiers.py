"""Tests for the USCC (GB 32100-2015) and resident ID (GB 11643-1999) validators.

Vectors come from the shared conformance fixture ``ids/check_digits.json`` (used as is);
property tests build codes from the standards' rules and mutate them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shuchang.domains.participants.identifiers import (
    MESSAGES,
    MIN_BIRTH_DATE,
    PROVINCE_CODES,
    REASON_CODES,
    REGISTRATION_AUTHORITIES,
    SUBJECT_KINDS,
    USCC_ALPHABET,
    check_identifier,
    check_resident_id,
    check_uscc,
    org_code_check_character,
    resident_id_check_digit,
    uscc_check_character,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT.parent / "shared" / "fixtures" / "ids" / "check_digits.json"
VECTORS: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))

#: The fixture gives a note, not a reason code, for each invalid vector; these are the reasons
#: the notes describe. Vectors added later are held to their kind's reason family only.
EXPECTED_REASONS = {
    "91110000600037341N": "uscc.check_character",  # "wrong check character"
    "9111000060003IOZSV": "format.charset",  # "letters I, O, Z, S, V are not in the set"
    "911100001000016605": "uscc.check_character",  # "fails the check"
    "110105194912310021": "resident_id.check_digit",  # "wrong check digit"
}
TODAY = date(2025, 6, 30)
DIGITS = "0123456789"


def make_uscc(prefix: str, division: str, org_body: str) -> str:
    """A USCC with both check characters computed (prefix = authority + type)."""
    first17 = prefix + division + org_body + org_code_check_character(org_body)
    return first17 + uscc_check_character(first17)


def make_resident_id(division: str, born: date, sequence: str) -> str:
    """A resident ID with its check digit computed."""
    first17 = f"{division}{born:%Y%m%d}{sequence}"
    return first17 + resident_id_check_digit(first17)


def ids(vectors: list[dict[str, str]]) -> list[str]:
    return [vector["code"] for vector in vectors]


# --- fixture vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ids(VECTORS["uscc_valid"]))
def test_fixture_valid_usccs_are_valid(code: str) -> None:
    for result in (check_uscc(code), check_identifier(code)):
        assert result.valid, result.message_en
        assert result.kind == "uscc"
        assert result.reason is None
        assert result.org_code == code[8:17]
        assert result.subject_kind == SUBJECT_KINDS[code[0], code[1]]


@pytest.mark.parametrize("code", ids(VECTORS["uscc_valid"]))
def test_fixture_valid_usccs_carry_a_correct_embedded_org_code(code: str) -> None:
    # Positions 9-17 pass GB 11714 in every valid vector, the post-2015 "MA…" codes included,
    # which is why check_uscc may insist on it.
    assert org_code_check_character(code[8:16]) == code[16]


@pytest.mark.parametrize("code", ids(VECTORS["resident_id_valid"]))
def test_fixture_valid_resident_ids_are_valid(code: str) -> None:
    for result in (check_resident_id(code), check_identifier(code)):
        assert result.valid, result.message_en
        assert result.kind == "resident_id"
        assert result.birth_date == date(int(code[6:10]), int(code[10:12]), int(code[12:14]))


@pytest.mark.parametrize(
    ("kind", "code"),
    [("uscc", code) for code in ids(VECTORS["uscc_invalid"])]
    + [("resident_id", code) for code in ids(VECTORS["resident_id_invalid"])],
)
def test_fixture_invalid_vectors_are_invalid_for_the_expected_reason(kind: str, code: str) -> None:
    direct = check_uscc(code) if kind == "uscc" else check_resident_id(code)
    for result in (direct, check_identifier(code)):
        assert not result.valid
        assert result.kind == kind
        assert result.reason is not None
        assert result.reason.split(".")[0] in {"format", kind}
        if code in EXPECTED_REASONS:
            assert result.reason == EXPECTED_REASONS[code]


def test_annex_a_examples_expose_birth_date_and_gender() -> None:
    woman = check_resident_id("11010519491231002X")
    man = check_resident_id("440524188001010014")
    assert (woman.birth_date, woman.gender, woman.division) == (
        date(1949, 12, 31),
        "female",
        "110105",
    )
    assert (man.birth_date, man.gender, man.division) == (date(1880, 1, 1), "male", "440524")


def test_valid_uscc_exposes_its_parts() -> None:
    result = check_uscc("91350900587527783P")
    assert result.registration_authority == "9"
    assert result.org_type == "1"
    assert result.division == "350900"
    assert result.org_code == "587527783"
    assert result.subject_kind == "enterprise"
    assert result.birth_date is None and result.gender is None


# --- tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("11", "government"),
        ("12", "public_institution"),
        ("51", "social_organisation"),
        ("52", "social_organisation"),
        ("53", "social_organisation"),
        ("91", "enterprise"),
        ("92", "enterprise"),
        ("93", "enterprise"),
        ("Y1", "other"),
    ],
)
def test_subject_kinds(prefix: str, kind: str) -> None:
    assert SUBJECT_KINDS[prefix[0], prefix[1]] == kind


def test_authority_table_matches_gb_32100() -> None:
    assert set(REGISTRATION_AUTHORITIES) == set("123456789ANY")
    assert set(REGISTRATION_AUTHORITIES["9"].org_types) == {"1", "2", "3"}
    assert set(REGISTRATION_AUTHORITIES["Y"].org_types) == {"1"}
    assert set(SUBJECT_KINDS) == {
        (a, t) for a, authority in REGISTRATION_AUTHORITIES.items() for t in authority.org_types
    }


def test_every_reason_has_both_messages() -> None:
    assert set(MESSAGES) == REASON_CODES


# --- USCC structure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (make_uscc("94", "440300", "MA5DAB7C"), "uscc.org_type"),  # authority 9 has no type 4
        (make_uscc("Y2", "440300", "MA5DAB7C"), "uscc.org_type"),  # Y has only type 1
        (make_uscc("B1", "440300", "MA5DAB7C"), "uscc.registration_authority"),
        (make_uscc("91", "44030A", "MA5DAB7C"), "uscc.division"),
        ("9144030071526726XG"[:-1] + "Q", "uscc.check_character"),
        ("9144030071526726XG"[:-1] + "q", "uscc.check_character"),
        ("9144030071526726X", "format.length"),
        ("9144030071526726XGG", "format.length"),
        ("9144030071526726XS", "format.charset"),
    ],
)
def test_uscc_structure(code: str, reason: str) -> None:
    result = check_uscc(code)
    assert (result.valid, result.reason) == (False, reason)
    assert result.message_en and result.message_zh


def test_uscc_embedded_org_code_must_check() -> None:
    first17 = "91440300" + "71526726" + "1"  # GB 11714 wants "X" here
    result = check_uscc(first17 + uscc_check_character(first17))
    assert result.reason == "uscc.org_code_check"
    assert "71526726-1" in (result.message_en or "")


def test_unknown_type_names_its_authority() -> None:
    result = check_uscc(make_uscc("94", "440300", "MA5DAB7C"))
    assert "工商" in (result.message_zh or "")


# --- resident ID edge cases --------------------------------------------------------------------


def test_legacy_15_digit_numbers_are_rejected_with_their_own_reason() -> None:
    for result in (check_resident_id("110105491231002"), check_identifier("110105491231002")):
        assert (result.valid, result.kind, result.reason) == (
            False,
            "resident_id",
            "resident_id.legacy_15_digit",
        )
    assert check_uscc("110105491231002").reason == "format.length"


@pytest.mark.parametrize(
    ("born", "valid"),
    [
        (date(2000, 2, 29), True),  # divisible by 400: leap
        (MIN_BIRTH_DATE, True),
        (TODAY, True),
        (MIN_BIRTH_DATE - timedelta(days=1), False),
        (TODAY + timedelta(days=1), False),
        (date(2099, 1, 1), False),
    ],
)
def test_birth_date_bounds(born: date, valid: bool) -> None:
    result = check_resident_id(make_resident_id("110105", born, "002"), today=TODAY)
    assert result.valid is valid
    assert result.reason == (None if valid else "resident_id.birth_date")


@pytest.mark.parametrize("yyyymmdd", ["19000229", "20230229", "20230431", "20231301", "20230000"])
def test_impossible_calendar_dates_are_rejected(yyyymmdd: str) -> None:
    first17 = f"110105{yyyymmdd}002"
    result = check_resident_id(first17 + resident_id_check_digit(first17), today=TODAY)
    assert result.reason == "resident_id.birth_date"


def test_the_future_is_judged_against_today_by_default() -> None:
    tomorrow = date.today() + timedelta(days=2)  # clear of any UTC+8 date boundary
    assert check_resident_id(make_resident_id("110105", tomorrow, "002")).reason == (
        "resident_id.birth_date"
    )


@pytest.mark.parametrize(
    ("division", "valid"), [("830000", True), ("010105", False), ("910105", False)]
)
def test_resident_id_province(division: str, valid: bool) -> None:
    result = check_resident_id(make_resident_id(division, date(1990, 5, 1), "123"), today=TODAY)
    assert (result.valid, result.reason) == (valid, None if valid else "resident_id.division")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("11010519491231002", "format.length"),
        ("1101051949123100X2", "format.charset"),
        ("11010519491231002Y", "format.charset"),
        ("11010519491231002X1", "format.length"),
    ],
)
def test_resident_id_format(code: str, reason: str) -> None:
    assert check_resident_id(code).reason == reason


# --- normalisation and classification ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("9144030071526726xg", "9144030071526726XG"),
        ("  91 440300 715267 26XG\n", "9144030071526726XG"),
        ("９１４４０３００７１５２６７２６ｘＧ", "9144030071526726XG"),  # full width, from an IME
        ("11010519491231002x", "11010519491231002X"),
        ("\u3000110105 19491231 002X\t", "11010519491231002X"),  # ideographic space
    ],
)
def test_input_is_normalised_but_reported_as_given(raw: str, normalised: str) -> None:
    result = check_identifier(raw)
    assert (result.valid, result.code, result.normalised) == (True, raw, normalised)


@pytest.mark.parametrize("code", ["", "   ", "91440300", "9144030071526726XG9144"])
def test_unclassifiable_lengths(code: str) -> None:
    result = check_identifier(code)
    assert (result.valid, result.kind, result.reason) == (False, None, "format.length")


def test_all_digit_uscc_whose_middle_reads_as_a_date_is_still_a_uscc() -> None:
    # Division 110119 + org code 800101… puts "19800101" where a birth date would be.
    code = "911101198001010020"
    assert not check_resident_id(code, today=TODAY).valid  # province 91 does not exist
    result = check_identifier(code, today=TODAY)
    assert (result.valid, result.kind, result.subject_kind) == (True, "uscc", "enterprise")


def test_a_valid_resident_id_wins_over_a_valid_uscc_reading() -> None:
    # Beijing numbers start "11" (authority 1, type 1): about 1 in 340 valid ones also pass
    # every USCC check (found by search), so check_uscc alone must not be used on IDs.
    code = "110105199001011304"
    assert check_uscc(code).valid
    result = check_identifier(code, today=TODAY)
    assert (result.valid, result.kind, result.birth_date) == (True, "resident_id", date(1990, 1, 1))


@pytest.mark.parametrize(
    ("function", "argument"),
    [
        (uscc_check_character, "9144030071526726"),
        (uscc_check_character, "9144030071526726I"),
        (org_code_check_character, "7152672"),
        (org_code_check_character, "7152672a"),
        (resident_id_check_digit, "1101051949123100X"),
        (resident_id_check_digit, "１" * 17),  # full-width digits are not ASCII digits
    ],
)
def test_check_functions_reject_malformed_input(function: Any, argument: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        function(argument)


# --- properties ------------------------------------------------------------------------------


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    authority, org_type = draw(st.sampled_from(sorted(SUBJECT_KINDS)))
    division = draw(st.text(DIGITS, min_size=6, max_size=6))
    org_body = draw(st.text(USCC_ALPHABET, min_size=8, max_size=8))
    return make_uscc(authority + org_type, division, org_body)


@st.composite
def valid_resident_ids(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    division = province + draw(st.text(DIGITS, min_size=4, max_size=4))
    born = draw(st.dates(min_value=MIN_BIRTH_DATE, max_value=TODAY))
    return make_resident_id(division, born, draw(st.text(DIGITS, min_size=3, max_size=3)))


def substitute(code: str, position: int, char: str) -> str:
    return code[:position] + char + code[position + 1 :]


@given(valid_usccs())
def test_generated_usccs_are_valid(code: str) -> None:
    result = check_uscc(code)
    assert result.valid, result.message_en
    assert result.subject_kind == SUBJECT_KINDS[code[0], code[1]]
    # check_identifier agrees, unless an all-digit code also reads as a valid resident ID.
    assert check_identifier(code, today=TODAY).valid


@given(valid_resident_ids())
def test_generated_resident_ids_are_valid(code: str) -> None:
    result = check_identifier(code, today=TODAY)
    assert (result.valid, result.kind) == (True, "resident_id"), result.message_en
    assert result.gender == ("male" if int(code[16]) % 2 else "female")


@given(valid_usccs(), st.integers(0, 17), st.integers(1, 30))
def test_any_single_substitution_breaks_a_uscc(code: str, position: int, shift: int) -> None:
    # 31 is prime and no weight is 0 mod 31, so every single substitution changes the sum;
    # the check character is verified first, so it is always the reason given.
    new_char = USCC_ALPHABET[(USCC_ALPHABET.index(code[position]) + shift) % 31]
    result = check_uscc(substitute(code, position, new_char))
    assert (result.valid, result.reason) == (False, "uscc.check_character")


@given(valid_resident_ids(), st.integers(0, 17), st.data())
def test_any_single_substitution_breaks_a_resident_id(
    code: str, position: int, data: st.DataObject
) -> None:
    # MOD 11-2 weights are powers of 2 mod 11, never 0, and digits differ by less than 11.
    alphabet = DIGITS + "X" if position == 17 else DIGITS
    new_char = data.draw(st.sampled_from(alphabet.replace(code[position], "")))
    result = check_resident_id(substitute(code, position, new_char), today=TODAY)
    assert (result.valid, result.reason) == (False, "resident_id.check_digit")


def transpose(code: str, position: int) -> str:
    return code[:position] + code[position + 1] + code[position] + code[position + 2 :]


@given(valid_usccs(), st.integers(0, 16))
def test_any_adjacent_transposition_breaks_a_uscc(code: str, position: int) -> None:
    # Weights 3**i mod 31 differ between neighbours, and from the check character's 1.
    assume(code[position] != code[position + 1])
    result = check_uscc(transpose(code, position))
    assert (result.valid, result.reason) == (False, "uscc.check_character")


@given(valid_resident_ids(), st.integers(0, 16))
def test_any_adjacent_transposition_breaks_a_resident_id(code: str, position: int) -> None:
    # Weights 2**i mod 11 differ between neighbours, and from the check digit's 1; an X moved
    # off the last position is caught earlier, as a character out of place.
    assume(code[position] != code[position + 1])
    result = check_resident_id(transpose(code, position), today=TODAY)
    assert not result.valid
    assert result.reason in {"resident_id.check_digit", "format.charset"}


@settings(max_examples=200)
@given(st.text(max_size=24) | st.text(DIGITS + USCC_ALPHABET + "xX \u3000０", max_size=20))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = check_identifier(text, today=TODAY)
    assert result.code == text
    assert result.valid or result.reason in REASON_CODES
