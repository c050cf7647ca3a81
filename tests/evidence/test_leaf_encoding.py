"""The sequencer's fast leaf encoder must be byte-identical to the RFC 8785 encoder."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from shuchang.canonical import canonical_json
from shuchang.domains.evidence.log import LEAF_VERSION, leaf_data

texts = st.text(max_size=80)


@given(
    outbox_id=st.integers(min_value=1, max_value=2**53),
    kind=texts,
    subject=texts,
    actor=texts,
    digest=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    at=st.datetimes(timezones=st.just(UTC)),
)
def test_leaf_data_is_canonical_json(  # noqa: PLR0917 - one argument per hypothesis strategy
    outbox_id: int, kind: str, subject: str, actor: str, digest: str, at: datetime
) -> None:
    expected = canonical_json(
        {
            "v": LEAF_VERSION,
            "id": outbox_id,
            "kind": kind,
            "subject": subject,
            "actor": actor,
            "payload_sha256": digest,
            "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    )
    assert leaf_data(outbox_id, kind, subject, actor, digest, at) == expected
