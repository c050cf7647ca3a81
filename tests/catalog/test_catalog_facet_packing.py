"""The packed facet values on a catalog entry give back exactly the entry's values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shuchang.domains.catalog.search import pack_facets, unpack_facets

# As schemas.Tag allows: no whitespace (Unicode's included), no comma or semicolon.
tags = st.text(
    st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters=",;"),
    min_size=1,
    max_size=50,
).filter(lambda t: not any(c.isspace() for c in t))
regions = st.from_regex(r"[1-8]\d{5}", fullmatch=True)
industries = st.from_regex(r"[A-T](\d{2,4})?", fullmatch=True)


@given(
    st.lists(tags, max_size=20), st.lists(regions, max_size=50), st.lists(industries, max_size=5)
)
def test_unpacking_gives_each_facets_distinct_values_in_order(
    tag: list[str], region: list[str], industry: list[str]
) -> None:
    values = {"tag": tag, "region": region, "industry": industry}

    unpacked = unpack_facets(pack_facets(values))

    assert unpacked == {name: sorted(set(items)) for name, items in values.items() if items}
