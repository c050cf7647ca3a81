"""Chinese and English full-text terms: CJK bigrams plus lower-cased Latin words.

Chinese has no spaces, so words are not found by splitting; like Lucene's CJKAnalyzer, each
run of Han characters is indexed as overlapping bigrams ("税务局" → "税务 务局") and a query
is the phrase of its bigrams, which matches exactly the texts that contain the query string.
Two more rules keep that promise at the edges:

* runs separated by punctuation or spaces get a separator term between them (``ǂ``, which
  no query can produce), so "纳税务" does not match "依法纳税，税务登记" — except between two
  Latin words, where a space or ``_`` is how English and field names join (``credit_grade``);
* every distinct Han character is also indexed on its own in a second column, so a query of
  one character finds it anywhere, including at the end of a run ("量" in "用电量").

The same terms feed SQLite FTS5 (unicode61 tokenizer) and PostgreSQL tsvector ('simple'
configuration), so both backends find the same things. Indexed text is capped at
``MAX_TERMS`` terms on both (PostgreSQL positions stop at 16,383). Written by hand because
neither database ships Chinese segmentation and jieba-style dictionaries need model files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shuchang.errors import ValidationFailed

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}]+|[A-Za-z0-9]+")
_HAN_CHAR = re.compile(rf"[{_HAN}]")
SEPARATOR = "ǂ"
MAX_QUERY_WORDS = 8
MAX_TERMS = 4000


def _run_terms(run: str) -> list[str]:
    if run[0].isascii():
        return [run.lower()]
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def terms(text: str) -> list[str]:
    """Query terms of ``text``: bigrams of Han runs and lower-cased Latin words."""
    out: list[str] = []
    for match in _RUN.finditer(text):
        out.extend(_run_terms(match.group()))
    return out


def word_runs(word: str) -> list[str]:
    """The runs of Han characters and of letters and digits in ``word``, in order."""
    return _RUN.findall(word)


_SEGMENT = re.compile(rf"([^{_HAN}A-Za-z0-9]*)([{_HAN}]+|[A-Za-z0-9]+)")
_BIGRAM = re.compile(rf"(?=([{_HAN}]{{2}}))")


def _index_terms(text: str) -> list[str]:
    # Every character is either in a run or in the gap before it, so one C-level findall
    # yields (gap, run) pairs and the Python loop only decides separators (bulk import
    # indexes thousands of texts a second, and this is its hottest loop).
    out: list[str] = []
    previous_latin: bool | None = None
    for gap, run in _SEGMENT.findall(text):
        latin = run[0] < "\u0080"
        if gap and previous_latin is not None and not (latin and previous_latin):
            out.append(SEPARATOR)
        if latin:
            out.append(run.lower())
        elif len(run) == 1:
            out.append(run)
        else:
            out += _BIGRAM.findall(run)
        previous_latin = latin
    return out


def index_text(*parts: str | None) -> str:
    """The space-separated phrase terms to index for these texts (capped)."""
    return " ".join(_index_terms(" \n ".join(p for p in parts if p))[:MAX_TERMS])


def index_chars(*parts: str | None) -> str:
    """Every distinct Han character of these texts, for one-character queries."""
    return " ".join(dict.fromkeys(_HAN_CHAR.findall(" ".join(p for p in parts if p))))


def filter_term(facet: str, value: str) -> str | None:
    """The index term of one filter value: ``ǂ`` + facet letter + the lower-cased code.

    Filters on codes are indexed as terms beside the text, so the text index intersects them
    with the query's terms (a doclist merge) instead of every match being checked row by row.
    No query word can produce a ``ǂ`` term. ``None``: the value is not a code (it can match
    nothing that was indexed this way).
    """
    return SEPARATOR + facet + value.lower() if value.isascii() and value.isalnum() else None


def filter_terms(classification: str, industries: list[str], regions: list[str]) -> list[str]:
    """Index terms of an entry's filter values; a code is indexed with each of its prefixes."""
    out = [filter_term("c", classification)]
    for facet, codes in (("i", industries), ("r", regions)):
        out += [filter_term(facet, code[:n]) for code in codes for n in range(1, len(code) + 1)]
    return list(dict.fromkeys(t for t in out if t))


def query_phrases(query: str) -> list[list[str]]:
    """Each query word as the list of its terms (a phrase); words are ANDed.

    Anything that is not a Han character, letter or digit is dropped, so query syntax of
    either database can never be injected.
    """
    words = query.split()
    if len(words) > MAX_QUERY_WORDS:
        raise ValidationFailed(
            f"A query has at most {MAX_QUERY_WORDS} words",
            f"检索词最多 {MAX_QUERY_WORDS} 个",
            code="search.too_many_words",
            field="q",
        )
    return [p for p in (terms(word) for word in words) if p]


def is_single_han(phrase: list[str]) -> bool:
    return len(phrase) == 1 and len(phrase[0]) == 1 and not phrase[0].isascii()


def fts5_query(phrases: list[list[str]], filters: Sequence[str] = ()) -> str:
    parts = [
        f"chars : {p[0]}" if is_single_han(p) else 'body : "' + " ".join(p) + '"' for p in phrases
    ]
    return " AND ".join(parts + [f'body : "{t}"' for t in filters])


def tsqueries(
    phrases: list[list[str]], filters: Sequence[str] = ()
) -> tuple[str | None, str | None]:
    """(phrase query over search_vector, character query over chars_vector)."""
    body = [f"({' <-> '.join(p)})" for p in phrases if not is_single_han(p)] + list(filters)
    chars = [p[0] for p in phrases if is_single_han(p)]
    return (" & ".join(body) or None, " & ".join(chars) or None)
