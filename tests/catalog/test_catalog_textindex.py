"""Chinese and English full-text terms (textindex): CJK bigrams plus lower-cased Latin words.

Properties over random text first (pure functions, many examples), then the same promises
through the real full-text index of each backend (few examples), then known gaps.
"""

from __future__ import annotations

import itertools
import re

import msgspec
import pytest
from catalog_factories import field, resource_body
from catalog_support import Client, found, register
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import Member
from shuchang.domains.catalog import resources, search
from shuchang.domains.catalog.schemas import ResourceIn
from shuchang.domains.catalog.textindex import (
    MAX_QUERY_WORDS,
    fts5_query,
    query_phrases,
    terms,
    tsqueries,
)
from shuchang.domains.participants import Actor
from shuchang.errors import ValidationFailed
from shuchang.platform import Platform

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
TERM = re.compile(r"^(?:[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{1,2}|[a-z0-9]+)$")

# A small alphabet makes repeated characters (and so tricky overlaps) likely.
FEW_HAN = "税务局东瓯市企业登记信用数据"
mixed_text = st.text(
    alphabet=st.sampled_from([*FEW_HAN, *"abcXYZ019", " ", "，", "_", "-", "（", "）", "😀"]),
    max_size=40,
)
any_han = st.characters(
    categories=["Lo"],
    min_codepoint=0x3400,
    max_codepoint=0xFAFF,
).filter(lambda c: HAN.match(c) is not None)


def contains(haystack: list[str], needle: list[str]) -> bool:
    """Phrase match as both backends do it: the terms appear consecutively."""
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def han_substrings(text: str) -> set[str]:
    return {
        run[i:j]
        for run in RUN.findall(text)
        for i in range(len(run))
        for j in range(i + 2, len(run) + 1)
    }


@given(mixed_text)
def test_every_han_substring_of_two_or_more_characters_is_found(text: str) -> None:
    indexed = terms(text)

    for sub in han_substrings(text):
        [phrase] = query_phrases(sub)
        assert contains(indexed, phrase), sub


@given(mixed_text)
def test_every_latin_word_is_found_whatever_its_case(text: str) -> None:
    indexed = terms(text)

    for word in re.findall(r"[A-Za-z0-9]+", text):
        for variant in (word, word.upper(), word.lower()):
            assert query_phrases(variant) == [[word.lower()]]
        assert word.lower() in indexed


@given(mixed_text)
def test_a_han_character_inside_a_word_is_found_by_prefix(text: str) -> None:
    indexed = terms(text)

    for run in RUN.findall(text):
        for ch in run[:-1]:  # the last character of a run: see the known gap below
            assert any(t.startswith(ch) for t in indexed), ch


def test_bigrams_overlap_and_latin_words_are_lower_cased() -> None:
    assert terms("国家税务总局 credit_grade A级") == [
        "国家", "家税", "税务", "务总", "总局", "credit", "grade", "a", "级",
    ]  # fmt: skip
    assert query_phrases("税务局 Credit_Grade") == [["税务", "务局"], ["credit", "grade"]]
    assert query_phrases("务税") == [["务税"]]


@given(st.text(max_size=300))
def test_query_terms_hold_only_han_characters_letters_and_digits(query: str) -> None:
    if len(query.split()) > MAX_QUERY_WORDS:
        with pytest.raises(ValidationFailed):
            query_phrases(query)
        return
    phrases = query_phrases(query)

    assert len(phrases) <= MAX_QUERY_WORDS
    for phrase in phrases:
        assert phrase, "an empty phrase would match anything"
        for term in phrase:
            assert TERM.match(term), term


_FTS5_PART = r'(?:body : "[^"*:()]+"|chars : [^\s"*:()])'
FTS5 = re.compile(rf"^{_FTS5_PART}(?: AND {_FTS5_PART})*$")
TSQUERY_BODY = re.compile(r"^\([^()&|!:*]+\)(?: & \([^()&|!:*]+\))*$")
TSQUERY_CHARS = re.compile(r"^[^\s()&|!:*](?: & [^\s()&|!:*])*$")


def _short(q: str) -> bool:
    return len(q.split()) <= MAX_QUERY_WORDS and query_phrases(q) != []


@given(st.text(max_size=300).filter(_short))
def test_the_backend_queries_carry_no_syntax_from_the_user(query: str) -> None:
    phrases = query_phrases(query)

    assert FTS5.match(fts5_query(phrases)), fts5_query(phrases)
    body, chars = tsqueries(phrases)
    assert body is None or TSQUERY_BODY.match(body), body
    assert chars is None or TSQUERY_CHARS.match(chars), chars
    for phrase in phrases:
        for term in phrase:
            # an operator word is only ever inside the quoted phrase it belongs to ("0 not")
            quoted = '"' + " ".join(phrase) + '"'
            assert term not in {"and", "or", "not", "near"} or quoted in fts5_query(phrases)


# --- through the real index -----------------------------------------------------------------

_tags = itertools.count(1)


def _index(platform: Platform, provider: Member, title: str, description: str) -> str:
    tag = f"属性{next(_tags)}"
    body = resource_body(title=title, description=description, tags=[tag], title_en=None,
                         description_en=None, fields=[field("code")])  # fmt: skip
    with platform.unit() as s:
        actor = Actor(participant_id=provider.id, role="provider")
        resources.register(s, actor, msgspec.convert(body, ResourceIn))
    return tag


def _hits(platform: Platform, q: str, tag: str) -> int:
    with platform.unit(write=False) as s:
        page = search.run(s, search.Query(q=q, tags=[tag], facets=False), None, oversight=True)
    return len(page.items)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=st.text(any_han, min_size=2, max_size=30), data=st.data())
def test_the_index_finds_every_substring_on_both_backends(
    platform: Platform, provider: Member, title: str, data: st.DataObject
) -> None:
    description = "东瓯市的数据资源说明"
    tag = _index(platform, provider, title, description)
    i = data.draw(st.integers(0, len(title) - 2))
    j = data.draw(st.integers(i + 2, len(title)))
    a, b = data.draw(st.sampled_from(title)), data.draw(st.sampled_from(title))

    assert _hits(platform, title[i:j], tag) == 1
    assert _hits(platform, title[i], tag) == 1 or i == len(title) - 1
    body = f"{title} {description} {tag}"
    assert _hits(platform, a + b, tag) == (1 if a + b in body else 0)


# --- known gaps -----------------------------------------------------------------------------


def test_one_han_character_finds_a_text_that_ends_with_it(client: Client, provider: Member) -> None:
    resource = register(client, provider, resource_body(title="企业月度用电量", tags=["电力"]))

    assert resource["id"] in found(client, provider, "量")


def test_a_phrase_never_spans_two_separate_words(client: Client, provider: Member) -> None:
    register(client, provider, resource_body(title="依法纳税，税务登记", tags=["纳税"]))

    assert found(client, provider, "纳税务") == set()


def test_text_far_into_a_long_schema_is_found(
    request: pytest.FixtureRequest, db_url: str, client: Client, provider: Member
) -> None:
    wide = [
        field(f"col_{i}", "string", "东瓯市市场主体登记信息统一社会信用代码" * 5)
        for i in range(250)
    ]
    wide.append(field("registered_capital_fen", "integer", "注册资本"))
    resource = register(client, provider, resource_body(fields=wide, tags=["宽表"]))

    for q in ("registered_capital_fen", "注册资本"):
        assert resource["id"] in found(client, provider, q, tag="宽表"), q
