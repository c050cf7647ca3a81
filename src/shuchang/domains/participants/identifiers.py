"""Validators for the legal identifiers a participant registers with (接入认证).

* Unified Social Credit Code (统一社会信用代码), GB 32100-2015, which embeds the
  organisation code (组织机构代码) of GB 11714-1997 in positions 9-17.
* Citizen identity number (公民身份号码) of the resident identity card (居民身份证),
  GB 11643-1999, with an ISO 7064 MOD 11-2 check digit.

A passing check shows that a code is well formed and self-consistent, not that the
organisation or person exists: that is for registry look-ups and signed credentials.

Nothing here raises for bad input; every check returns an ``IdentifierCheck``. Its ``reason``
is a stable machine code (``REASON_CODES``), with a message in English and in zh-CN.
Checks run in a fixed order and the first failure is reported. The check character comes
before structure (authority, type, division, birth date) because a mistyped character is by
far the commonest fault, and "check character mismatch" is then the honest diagnosis where
"unknown organisation type" would send the user looking in the wrong place.

Input is normalised first: full-width forms typed through a Chinese IME become ASCII, all
whitespace is removed, letters are upper-cased. ``code`` keeps the input as given,
``normalised`` is what was checked (and what to store and de-duplicate on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Final, Literal, NamedTuple, get_args

IdentifierKind = Literal["uscc", "resident_id"]
SubjectKind = Literal[
    "enterprise", "public_institution", "government", "social_organisation", "other"
]
Gender = Literal["male", "female"]
Reason = Literal[
    "format.length",  # wrong number of characters
    "format.charset",  # a character outside the identifier's alphabet
    "uscc.check_character",  # position 18 does not match (GB 32100 mod 31)
    "uscc.registration_authority",  # position 1 is not a registration authority code
    "uscc.org_type",  # position 2 is not a type defined for that authority
    "uscc.division",  # positions 3-8 are not a 6-digit division code
    "uscc.org_code_check",  # position 17 does not match (GB 11714 mod 11)
    "resident_id.legacy_15_digit",  # a first-generation 15-digit number
    "resident_id.check_digit",  # position 18 does not match (ISO 7064 MOD 11-2)
    "resident_id.division",  # first two digits are not a province-level code
    "resident_id.birth_date",  # positions 7-14 are not an acceptable birth date
]
REASON_CODES: Final[frozenset[str]] = frozenset(get_args(Reason))


@dataclass(frozen=True, slots=True)
class IdentifierCheck:
    """The outcome of checking one identifier.

    ``kind`` is what the code was checked as; ``None`` only when ``check_identifier`` could
    not tell from its shape. ``reason``/``message_en``/``message_zh`` are set exactly when
    ``valid`` is false. The parts below them are set only for valid codes: the USCC parts
    (``registration_authority`` 登记管理部门代码, ``org_type`` 机构类别代码,
    ``org_code`` 主体标识码, ``subject_kind``) or the resident-ID parts (``birth_date``,
    ``gender``); ``division`` (行政区划码) is set for both.
    """

    code: str
    normalised: str
    kind: IdentifierKind | None
    valid: bool
    reason: Reason | None = None
    message_en: str | None = None
    message_zh: str | None = None
    registration_authority: str | None = None
    org_type: str | None = None
    division: str | None = None
    org_code: str | None = None
    subject_kind: SubjectKind | None = None
    birth_date: date | None = None
    gender: Gender | None = None


# --- GB 32100-2015 registration authorities and organisation types -------------------------


@dataclass(frozen=True, slots=True)
class OrgType:
    """An organisation type (机构类别) and the participant kind it implies."""

    name_en: str
    name_zh: str
    subject_kind: SubjectKind


@dataclass(frozen=True, slots=True)
class RegistrationAuthority:
    """A registration authority (登记管理部门) and the organisation types it registers."""

    name_en: str
    name_zh: str
    org_types: Mapping[str, OrgType]


#: Authority names for position 1 of GB 32100-2015. The standard as published in 2015 defines
#: 1-9 and Y; A (military) and N (rural collective economic organisations) were added to its
#: code table later and appear on issued codes.
_AUTHORITY_NAMES: Final[Mapping[str, tuple[str, str]]] = {
    "1": ("Institutional staffing", "机构编制"),
    "2": ("Foreign affairs", "外交"),
    "3": ("Justice administration", "司法行政"),
    "4": ("Culture", "文化"),
    "5": ("Civil affairs", "民政"),
    "6": ("Tourism", "旅游"),
    "7": ("Religious affairs", "宗教"),
    "8": ("Trade unions", "工会"),
    "9": ("Market regulation (industry and commerce)", "工商（市场监管）"),
    "A": ("Central Military Commission reform and staffing office", "中央军委改革和编制办公室"),
    "N": ("Agriculture and rural affairs", "农业"),
    "Y": ("Other", "其他"),
}

#: Positions 1-2 of GB 32100-2015 (authority + type), the participant kind each implies, and
#: the type's names. Every "9 其他" maps to "other"; authority 9 has no type 9, Y only type 1.
#: The kinds are this project's reading: 13 (mass organisations staffed by the central
#: staffing office, e.g. 妇联) and 81 (基层工会, 社会团体法人 under the Trade Union Law) are
#: social organisations, A1 military public institutions are public institutions, rural
#: collective economic organisations (N1-N3, 特别法人) and all other types are "other".
_ORG_TYPE_ROWS: Final[tuple[tuple[str, SubjectKind, str, str], ...]] = (
    ("11", "government", "Government organ", "机关"),
    ("12", "public_institution", "Public institution", "事业单位"),
    (
        "13",
        "social_organisation",
        "Mass organisation staffed centrally",
        "中央编办直接管理机构编制的群众团体",
    ),
    ("19", "other", "Other", "其他"),
    ("21", "other", "Resident foreign news agency", "外国常驻新闻机构"),
    ("29", "other", "Other", "其他"),
    ("31", "other", "Law firm", "律师执业机构"),
    ("32", "other", "Notary office", "公证处"),
    ("33", "other", "Grassroots legal service office", "基层法律服务所"),
    ("34", "other", "Forensic appraisal institution", "司法鉴定机构"),
    ("35", "other", "Arbitration commission", "仲裁委员会"),
    ("39", "other", "Other", "其他"),
    ("41", "other", "Foreign cultural centre in China", "外国在华文化中心"),
    ("49", "other", "Other", "其他"),
    ("51", "social_organisation", "Social association", "社会团体"),
    ("52", "social_organisation", "Private non-enterprise unit", "民办非企业单位"),
    ("53", "social_organisation", "Foundation", "基金会"),
    ("59", "other", "Other", "其他"),
    ("61", "other", "Office of a foreign tourism authority", "外国旅游部门常驻代表机构"),
    (
        "62",
        "other",
        "Office of a Hong Kong, Macao or Taiwan tourism authority",
        "港澳台地区旅游部门常驻内地（大陆）代表机构",
    ),
    ("69", "other", "Other", "其他"),
    ("71", "other", "Venue for religious activities", "宗教活动场所"),
    ("72", "other", "Religious college", "宗教院校"),
    ("79", "other", "Other", "其他"),
    ("81", "social_organisation", "Grassroots trade union", "基层工会"),
    ("89", "other", "Other", "其他"),
    ("91", "enterprise", "Enterprise", "企业"),
    ("92", "enterprise", "Individual business", "个体工商户"),
    ("93", "enterprise", "Farmers' specialised cooperative", "农民专业合作社"),
    ("A1", "public_institution", "Military public institution", "军队事业单位"),
    ("A9", "other", "Other", "其他"),
    ("N1", "other", "Group-level collective economic organisation", "组级集体经济组织"),
    ("N2", "other", "Village-level collective economic organisation", "村级集体经济组织"),
    ("N3", "other", "Township-level collective economic organisation", "乡镇级集体经济组织"),
    ("N9", "other", "Other", "其他"),
    ("Y1", "other", "Other", "其他"),
)


def _build_authorities() -> Mapping[str, RegistrationAuthority]:
    authorities = {}
    for authority, (name_en, name_zh) in _AUTHORITY_NAMES.items():
        org_types = {
            prefix[1]: OrgType(type_en, type_zh, kind)
            for prefix, kind, type_en, type_zh in _ORG_TYPE_ROWS
            if prefix[0] == authority
        }
        authorities[authority] = RegistrationAuthority(
            name_en, name_zh, MappingProxyType(org_types)
        )
    return MappingProxyType(authorities)


#: GB 32100-2015 registration authorities (position 1) with their organisation types
#: (position 2), e.g. ``REGISTRATION_AUTHORITIES["5"].org_types["3"].name_zh == "基金会"``.
REGISTRATION_AUTHORITIES: Final = _build_authorities()

#: (registration authority, organisation type) → the participant kind the code implies, used
#: to check that a registration's declared kind matches its code, e.g. ("9", "1") → enterprise.
SUBJECT_KINDS: Final[Mapping[tuple[str, str], SubjectKind]] = MappingProxyType(
    {
        (authority_code, type_code): org_type.subject_kind
        for authority_code, authority in REGISTRATION_AUTHORITIES.items()
        for type_code, org_type in authority.org_types.items()
    }
)

# --- check characters ------------------------------------------------------------------------

USCC_LENGTH: Final = 18
RESIDENT_ID_LENGTH: Final = 18
LEGACY_RESIDENT_ID_LENGTH: Final = 15
_ORG_CODE_BODY_LENGTH: Final = 8
_YYYYMMDD_LENGTH: Final = 8

#: GB 32100 alphabet: digits and capitals without I, O, S, V, Z; a character's value is its index.
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS: Final = frozenset(USCC_ALPHABET)
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_BODY: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_DIGITS: Final = frozenset("0123456789")
_RESIDENT_ID_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))


def uscc_check_character(first17: str) -> str:
    """GB 32100-2015 check character (position 18) for the first 17 characters.

    Weighted sum mod 31 with weights 3**i mod 31; check value = 31 - (sum mod 31), 31 → 0.
    Raises ``ValueError`` unless ``first17`` is 17 characters of ``USCC_ALPHABET``.
    """
    if len(first17) != USCC_LENGTH - 1 or not set(first17) <= _USCC_CHARS:
        raise ValueError(f"expected 17 characters of {USCC_ALPHABET}, got {first17!r}")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[-total % 31]


def org_code_check_character(first8: str) -> str:
    """GB 11714-1997 organisation code check character for the 8-character body.

    Body characters are digits and capitals (A=10 … Z=35); weights 3,7,9,10,5,8,4,2;
    check = 11 - (sum mod 11), written "X" for 10 and "0" for 11.
    Raises ``ValueError`` unless ``first8`` is 8 digits or capital letters.
    """
    if len(first8) != _ORG_CODE_BODY_LENGTH or not set(first8) <= _ORG_CODE_BODY:
        raise ValueError(f"expected 8 digits or capital letters, got {first8!r}")
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def resident_id_check_digit(first17: str) -> str:
    """GB 11643-1999 check digit: ISO 7064 MOD 11-2 over the 17 digits, "X" for 10.

    Raises ``ValueError`` unless ``first17`` is 17 ASCII digits.
    """
    if len(first17) != RESIDENT_ID_LENGTH - 1 or not set(first17) <= _DIGITS:
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


# --- failures ----------------------------------------------------------------------------------

#: English and zh-CN message templates per reason; ``{…}`` fields come from the failing check.
MESSAGES: Final[Mapping[Reason, tuple[str, str]]] = MappingProxyType(
    {
        "format.length": (
            "expected {expected} characters, got {actual}",
            "应为 {expected} 位，实际为 {actual} 位",
        ),
        "format.charset": (
            "character {char!r} at position {position} is not allowed: {rule_en}",
            "第 {position} 位字符 {char!r} 不允许：{rule_zh}",
        ),
        "uscc.check_character": (
            "the check character (position 18) does not match; a character was probably mistyped",
            "校验码（第 18 位）不符，可能有字符输入错误",
        ),
        "uscc.registration_authority": (
            "{authority!r} (position 1) is not a registration authority code of GB 32100",
            "第 1 位 {authority!r} 不是 GB 32100 规定的登记管理部门代码",
        ),
        "uscc.org_type": (
            "{org_type!r} (position 2) is not an organisation type of authority {authority!r} "
            "({name_en})",
            "第 2 位 {org_type!r} 不是登记管理部门 {authority!r}（{name_zh}）的机构类别代码",
        ),
        "uscc.division": (
            "positions 3-8 ({division!r}) must be a 6-digit administrative division code",
            "第 3-8 位（{division!r}）应为 6 位数字行政区划码",
        ),
        "uscc.org_code_check": (
            "the organisation code {org_code} (positions 9-17) fails its GB 11714 check",
            "组织机构代码 {org_code}（第 9-17 位）校验码不符（GB 11714）",
        ),
        "resident_id.legacy_15_digit": (
            "15-digit numbers (first-generation cards, void since 2013-01-01) are not accepted; "
            "use the 18-digit number",
            "15 位号码（第一代居民身份证，2013 年 1 月 1 日起停止使用）不再受理，"
            "请使用 18 位公民身份号码",
        ),
        "resident_id.check_digit": (
            "the check digit (position 18) does not match; a digit was probably mistyped",
            "校验码（第 18 位）不符，可能有数字输入错误",
        ),
        "resident_id.division": (
            "{division} (positions 1-6) does not start with a province-level division code",
            "地址码 {division}（第 1-6 位）不以省级行政区划代码开头",
        ),
        "resident_id.birth_date": (
            "birth date {value} (positions 7-14) {why_en}",
            "出生日期 {value}（第 7-14 位）{why_zh}",
        ),
    }
)


class _Failure(NamedTuple):
    reason: Reason
    en: str
    zh: str


def _fail(reason: Reason, **fields: object) -> _Failure:
    en, zh = MESSAGES[reason]
    return _Failure(reason, en.format(**fields), zh.format(**fields))


_Step = Callable[[str], _Failure | None]


def _first_failure(code: str, steps: tuple[_Step, ...]) -> _Failure | None:
    for step in steps:
        if (failure := step(code)) is not None:
            return failure
    return None


def _length_failure(code: str, expected: int) -> _Failure | None:
    if len(code) == expected:
        return None
    return _fail("format.length", expected=expected, actual=len(code))


def _charset_failure(
    code: str, allowed: Callable[[int, str], bool], rule_en: str, rule_zh: str
) -> _Failure | None:
    for index, char in enumerate(code):
        if not allowed(index, char):
            return _fail(
                "format.charset", char=char, position=index + 1, rule_en=rule_en, rule_zh=rule_zh
            )
    return None


# --- Unified Social Credit Code ------------------------------------------------------------------


def _uscc_length(code: str) -> _Failure | None:
    return _length_failure(code, USCC_LENGTH)


def _uscc_charset(code: str) -> _Failure | None:
    return _charset_failure(
        code,
        lambda _index, char: char in _USCC_CHARS,
        "digits and capital letters except I, O, S, V, Z",
        "只能是数字和除 I、O、S、V、Z 以外的大写字母",
    )


def _uscc_check(code: str) -> _Failure | None:
    ok = uscc_check_character(code[:17]) == code[17]
    return None if ok else _fail("uscc.check_character")


def _uscc_authority(code: str) -> _Failure | None:
    ok = code[0] in REGISTRATION_AUTHORITIES
    return None if ok else _fail("uscc.registration_authority", authority=code[0])


def _uscc_org_type(code: str) -> _Failure | None:
    authority = REGISTRATION_AUTHORITIES[code[0]]
    if code[1] in authority.org_types:
        return None
    return _fail(
        "uscc.org_type",
        org_type=code[1],
        authority=code[0],
        name_en=authority.name_en,
        name_zh=authority.name_zh,
    )


def _uscc_division(code: str) -> _Failure | None:
    # Only the shape is checked: GB/T 2260 changes every year, codes outlive the divisions
    # they were issued in, and national registrations use 100000.
    ok = set(code[2:8]) <= _DIGITS
    return None if ok else _fail("uscc.division", division=code[2:8])


def _uscc_org_code(code: str) -> _Failure | None:
    # Every valid fixture vector, and the 142 published codes in python-stdnum's tests we
    # tried (the post-2015 "MA…" series and an "L…" code among them), pass GB 11714 here.
    ok = org_code_check_character(code[8:16]) == code[16]
    return None if ok else _fail("uscc.org_code_check", org_code=f"{code[8:16]}-{code[16]}")


_USCC_STEPS: Final[tuple[_Step, ...]] = (
    _uscc_length,
    _uscc_charset,
    _uscc_check,
    _uscc_authority,
    _uscc_org_type,
    _uscc_division,
    _uscc_org_code,
)


def check_uscc(code: str) -> IdentifierCheck:
    """Check a Unified Social Credit Code (统一社会信用代码, GB 32100-2015).

    Order: length 18, alphabet, check character (position 18), registration authority
    (position 1), organisation type for that authority (position 2), division (positions
    3-8, six digits), embedded organisation code check (positions 9-17, GB 11714).
    About one valid Beijing resident ID in 340 also passes ("11" reads as authority 1,
    type 1), so use ``check_identifier`` or the declared kind to choose the check.
    """
    normalised = normalise(code)
    failure = _first_failure(normalised, _USCC_STEPS)
    if failure is not None:
        return _invalid(code, normalised, "uscc", failure)
    authority, org_type = normalised[0], normalised[1]
    return IdentifierCheck(
        code=code,
        normalised=normalised,
        kind="uscc",
        valid=True,
        registration_authority=authority,
        org_type=org_type,
        division=normalised[2:8],
        org_code=normalised[8:17],
        subject_kind=SUBJECT_KINDS[authority, org_type],
    )


# --- resident identity number ------------------------------------------------------------------

#: Province-level codes of GB/T 2260 (first two digits of the address code): 11 北京 12 天津
#: 13 河北 14 山西 15 内蒙古 21 辽宁 22 吉林 23 黑龙江 31 上海 32 江苏 33 浙江 34 安徽 35 福建
#: 36 江西 37 山东 41 河南 42 湖北 43 湖南 44 广东 45 广西 46 海南 50 重庆 51 四川 52 贵州
#: 53 云南 54 西藏 61 陕西 62 甘肃 63 青海 64 宁夏 65 新疆 71 台湾 81 香港 82 澳门; plus 83, the
#: address code 830000 of residence permits for Taiwan residents (台湾居民居住证), numbered
#: under GB 11643 like the Hong Kong (81) and Macao (82) residents' permits. Foreign permanent
#: residents' 18-digit numbers start with 9 and are a different identifier.
# fmt: off
PROVINCE_CODES: Final = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
# fmt: on

#: Earliest accepted birth date. GB 11643's own Annex A example was born in 1880 and numbers
#: were first issued in the 1980s, so 1800 leaves room for the oldest records while still
#: catching a mistyped century (e.g. 0949, 1049).
MIN_BIRTH_DATE: Final = date(1800, 1, 1)
#: China Standard Time has had no daylight saving since 1991; birth dates are local dates.
_CHINA_TIME: Final = timezone(timedelta(hours=8), "Asia/Shanghai")


def _resident_id_length(code: str) -> _Failure | None:
    if len(code) == LEGACY_RESIDENT_ID_LENGTH and set(code) <= _DIGITS:
        return _fail("resident_id.legacy_15_digit")
    return _length_failure(code, RESIDENT_ID_LENGTH)


def _resident_id_charset(code: str) -> _Failure | None:
    return _charset_failure(
        code,
        lambda index, char: char in _DIGITS or (char == "X" and index == RESIDENT_ID_LENGTH - 1),
        "17 digits followed by a digit or X",
        "应为 17 位数字加 1 位数字或 X",
    )


def _resident_id_check(code: str) -> _Failure | None:
    ok = resident_id_check_digit(code[:17]) == code[17]
    return None if ok else _fail("resident_id.check_digit")


def _resident_id_division(code: str) -> _Failure | None:
    ok = code[:2] in PROVINCE_CODES
    return None if ok else _fail("resident_id.division", division=code[:6])


_RESIDENT_ID_STEPS: Final[tuple[_Step, ...]] = (
    _resident_id_length,
    _resident_id_charset,
    _resident_id_check,
    _resident_id_division,
)


def _parse_yyyymmdd(text: str) -> date | None:
    if len(text) != _YYYYMMDD_LENGTH or not set(text) <= _DIGITS:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _birth_date_failure(text: str, today: date) -> _Failure | None:
    born = _parse_yyyymmdd(text)
    if born is None:
        why = ("is not a calendar date", "不是有效日期")
    elif born < MIN_BIRTH_DATE:
        why = (f"is before {MIN_BIRTH_DATE:%Y%m%d}", f"早于 {MIN_BIRTH_DATE:%Y%m%d}")
    elif born > today:
        why = ("is in the future", "晚于当前日期")
    else:
        return None
    return _fail("resident_id.birth_date", value=text, why_en=why[0], why_zh=why[1])


def china_today() -> date:
    """Today's date in China Standard Time (UTC+8), the upper bound for birth dates."""
    return datetime.now(UTC).astimezone(_CHINA_TIME).date()


def check_resident_id(code: str, *, today: date | None = None) -> IdentifierCheck:
    """Check an 18-digit citizen identity number (公民身份号码, GB 11643-1999).

    Order: length (15 digits → ``resident_id.legacy_15_digit``), alphabet, check digit
    (ISO 7064 MOD 11-2), province of the address code, birth date (a real date between
    ``MIN_BIRTH_DATE`` and ``today``, which defaults to ``china_today()``). The 17th digit
    (顺序码 parity) gives the gender: odd male, even female.
    """
    normalised = normalise(code)
    failure = _first_failure(normalised, _RESIDENT_ID_STEPS) or _birth_date_failure(
        normalised[6:14], today or china_today()
    )
    if failure is not None:
        return _invalid(code, normalised, "resident_id", failure)
    return IdentifierCheck(
        code=code,
        normalised=normalised,
        kind="resident_id",
        valid=True,
        division=normalised[:6],
        birth_date=_parse_yyyymmdd(normalised[6:14]),
        gender="male" if int(normalised[16]) % 2 else "female",
    )


# --- either ------------------------------------------------------------------------------------

_FULLWIDTH_TO_ASCII: Final = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}


def normalise(code: str) -> str:
    """Full-width ASCII forms to ASCII, all whitespace removed, letters upper-cased."""
    return "".join(code.translate(_FULLWIDTH_TO_ASCII).split()).upper()


def _has_resident_id_shape(normalised: str) -> bool:
    first17, last = normalised[:17], normalised[17:]
    return (
        len(normalised) == RESIDENT_ID_LENGTH
        and set(first17) <= _DIGITS
        and (last in _DIGITS or last == "X")
        and _parse_yyyymmdd(normalised[6:14]) is not None
    )


def check_identifier(code: str, *, today: date | None = None) -> IdentifierCheck:
    """Check a code that may be either identifier, telling them apart by shape.

    17 digits + a digit or X whose positions 7-14 form a calendar date → resident ID; 15
    digits → resident ID (rejected as legacy); other 18-character codes → USCC; any other
    length → ``format.length`` with ``kind`` None. An all-digit code can fit both shapes:
    the valid reading wins, and if both or neither are valid the resident ID reading does.
    """
    normalised = normalise(code)
    if _has_resident_id_shape(normalised):
        as_resident_id = check_resident_id(code, today=today)
        if as_resident_id.valid:
            return as_resident_id
        as_uscc = check_uscc(code)
        return as_uscc if as_uscc.valid else as_resident_id
    if len(normalised) == LEGACY_RESIDENT_ID_LENGTH and set(normalised) <= _DIGITS:
        return check_resident_id(code, today=today)
    if len(normalised) == USCC_LENGTH:
        return check_uscc(code)
    failure = _fail("format.length", expected=USCC_LENGTH, actual=len(normalised))
    return _invalid(code, normalised, None, failure)


def _invalid(
    code: str, normalised: str, kind: IdentifierKind | None, failure: _Failure
) -> IdentifierCheck:
    return IdentifierCheck(
        code=code,
        normalised=normalised,
        kind=kind,
        valid=False,
        reason=failure.reason,
        message_en=failure.en,
        message_zh=failure.zh,
    )
