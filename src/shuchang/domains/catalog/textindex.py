"""Chinese and English full-text terms: CJK bigrams plus lower-cased Latin words.

Chinese has no spaces, so words are not found by splitting; like Lucene's CJKAnalyzer, each
run of Han characters is indexed as overlapping bigrams ("税务局" → "税务 务局") and a query
is the phrase of its bigrams, which matches exactly the texts that contain the query string.
The same terms feed SQLite FTS5 (unicode61 tokenizer) and PostgreSQL tsvector ('simple'
configuration), so both backends find the same things. Written by hand because neither
database ships Chinese segmentation and jieba-style dictionaries need model files.
"""

from __future__ import annotations

import re

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}]+|[A-Za-z0-9]+")
MAX_QUERY_WORDS = 8


def terms(text: str) -> list[str]:
    out: list[str] = []
    for match in _RUN.finditer(text):
        run = match.group()
        if run[0].isascii():
            out.append(run.lower())
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def index_text(*parts: str | None) -> str:
    """The space-separated terms to index for these texts."""
    return " ".join(terms(" ".join(p for p in parts if p)))


def query_phrases(query: str) -> list[list[str]]:
    """Each query word as the list of its terms (a phrase); words are ANDed.

    Anything that is not a Han character, letter or digit is dropped, so query syntax of
    either database can never be injected.
    """
    phrases = [terms(word) for word in query.split()[:MAX_QUERY_WORDS]]
    return [p for p in phrases if p]


def fts5_query(phrases: list[list[str]]) -> str:
    parts = []
    for phrase in phrases:
        if len(phrase) == 1 and len(phrase[0]) == 1 and not phrase[0].isascii():
            parts.append(f"{phrase[0]}*")  # one Han character: any bigram starting with it
        else:
            parts.append('"' + " ".join(phrase) + '"')
    return " AND ".join(parts)


def tsquery(phrases: list[list[str]]) -> str:
    parts = []
    for phrase in phrases:
        if len(phrase) == 1 and len(phrase[0]) == 1 and not phrase[0].isascii():
            parts.append(f"{phrase[0]}:*")
        else:
            parts.append("(" + " <-> ".join(phrase) + ")")
    return " & ".join(parts)
