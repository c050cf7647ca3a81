"""The C-encoded canonical JSON of plain shapes is byte for byte RFC 8785 (canonical_json)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shuchang.canonical import MAX_SAFE_INTEGER, canonical_json, canonical_json_of_plain

# every character a Python string can hold and UTF-8 can carry: control characters, quotes,
# backslashes, U+2028, CJK, astral planes — but not lone surrogates
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
scalars = (
    texts
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.booleans()
    | st.none()
)
keys = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=12)
plain = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=30,
)


@given(plain)
def test_plain_values_encode_as_rfc_8785(value: Any) -> None:
    assert canonical_json_of_plain(value) == canonical_json(value)


def test_control_characters_and_non_ascii_are_escaped_as_jcs_does() -> None:
    value = {"b": '\x00\x1f\n\t"\\ 东瓯 \u2028 😀', "a": [1, -(2**53), True, None]}
    assert canonical_json_of_plain(value) == canonical_json(value)
    assert canonical_json_of_plain(value).startswith(b'{"a":[1,-9007199254740992,true,null]')
