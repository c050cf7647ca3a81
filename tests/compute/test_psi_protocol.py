"""The PSI cryptography against plain set intersection (hypothesis, small sets), the
cardinality mode's answer reveals no members, and identifier normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuchang.domains.compute import psi_protocol as p

ids = st.sets(st.integers(0, 400).map(lambda n: f"91330300MA{n:08d}"), min_size=1, max_size=40)


def _run(client: list[str], server: list[str], reveal: bool) -> tuple[int, list[str] | None]:
    state, request = p.client_request(client, reveal)
    assert p.request_size(request, reveal) == len(client)
    setup, response = p.server_answer(server, reveal, request, len(client))
    return p.client_finish(state, setup, response, client)


@settings(max_examples=25, deadline=None)
@given(ids, ids)
def test_the_intersection_is_the_plain_set_intersection(a: set[str], b: set[str]) -> None:
    client, server = sorted(a), sorted(b)
    size, members = _run(client, server, reveal=True)
    assert members == sorted(a & b) and size == len(a & b)
    size, members = _run(client, server, reveal=False)
    assert (size, members) == (len(a & b), None)


def test_cardinality_answers_cannot_be_mapped_to_members() -> None:
    client = [f"91330300MA{n:08d}" for n in range(50)]
    server = client[:10] + [f"91330300MB{n:08d}" for n in range(40)]
    state, request = p.client_request(client, reveal=False)
    setup, response = p.server_answer(server, False, request, len(client))
    # The sender sorts its response in cardinality mode: a receiver that kept its key and
    # asks for members anyway gets an error or indices that do not match the truth.
    cheat = p.ClientState(state.key, True)
    try:
        _, members = p.client_finish(cheat, setup, response, client)
    except p.ProtocolError:
        members = None
    assert members != sorted(client[:10])
    # And a receiver cannot ask a cardinality sender for members in the first place.
    _, revealing = p.client_request(client, reveal=True)
    with pytest.raises(p.ProtocolError):
        p.request_size(revealing, reveal=False)


def test_repeated_identifiers_count_once() -> None:
    _, request = p.client_request(["91330300MA00000001"] * 100, reveal=False)
    assert p.request_size(request, reveal=False) == 1


@pytest.mark.parametrize(
    ("rule", "raw", "expected"),
    [
        ("uscc", " 91330300ma00000001 ", "91330300MA00000001"),
        ("uscc", "９１３３０３００ＭＡ０００００００１", "91330300MA00000001"),  # full-width
        ("uscc", "91330300MA0000000I", None),  # I is not a USCC character
        ("resident_id", "11010519491231002x", "11010519491231002X"),
        ("mobile", "+86 138-0013-8000", "13800138000"),
        ("email", " Ops@Example.CN ", "ops@example.cn"),
        ("text", "  ", None),
    ],
)
def test_identifiers_are_normalised_before_hashing(
    rule: str, raw: str, expected: str | None
) -> None:
    found = p.normalise([raw], rule)
    assert found.items == ([expected] if expected else [])
    assert found.rejected == (0 if expected else 1)


def test_the_set_digest_is_order_free() -> None:
    a = p.normalise(["91330300MA00000002", "91330300ma00000001"], "uscc")
    b = p.normalise(["91330300MA00000001", "91330300MA00000002", "91330300MA00000001"], "uscc")
    assert a.digest == b.digest
