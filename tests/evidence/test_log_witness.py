"""Witness cosignatures (见证方联署): configured witnesses cosign checkpoints, nobody else.

What a verifier relies on: a witness line served with /tlog/checkpoint was made by a
configured witness over exactly this checkpoint (so it verifies against the served note),
and a bad submission changes nothing.

The rules are tested through ``logview.add_cosignatures`` (the service the route calls) and
read back over HTTP; one test drives the route itself with the note posted as text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from evidence_support import assert_problem, grow
from litestar.testing import TestClient
from sqlalchemy import func, select

from shuchang.app import create_app
from shuchang.domains.evidence import logview
from shuchang.domains.evidence.models import LogCosignature
from shuchang.domains.evidence.tlog.checkpoint import Checkpoint, open_checkpoint
from shuchang.domains.evidence.tlog.note import (
    Signer,
    cosign,
    generate_key,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign,
)
from shuchang.errors import ShuchangError
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]
WITNESS = "witness.dongou.example/w1"
TEXT = {"content-type": "text/plain; charset=utf-8"}


class Witnessed(NamedTuple):
    client: Client
    platform: Platform
    witness: Signer


def new_signer(name: str) -> Signer:
    return parse_signer_key(generate_key(name)[0])


@pytest.fixture
def witnessed(platform: Platform) -> Iterator[Witnessed]:
    """The app on the test database with one configured witness (plus one unrelated key
    listed first, so the configured list really is a list)."""
    witness = new_signer(WITNESS)
    other = generate_key("witness.elsewhere.example/w9")[1]
    settings = dataclasses.replace(
        platform.settings, witness_keys=f"{other}, {witness.verifier().vkey}"
    )
    shared = Platform(settings=settings, engine=platform.engine, sessions=platform.sessions)
    with TestClient(create_app(settings, shared)) as client:
        yield Witnessed(client, shared, witness)


def submit(witnessed: Witnessed, size: int, note: bytes) -> int:
    """What the route does with a posted note: one unit, the configured witness keys."""
    platform = witnessed.platform
    with platform.unit() as s:
        keys = logview.witnesses(platform.settings.witness_keys)
        return logview.add_cosignatures(s, size, note, keys)


def refused(witnessed: Witnessed, size: int, note: bytes) -> ShuchangError:
    with pytest.raises(ShuchangError) as caught:
        submit(witnessed, size, note)
    return caught.value


def stored(platform: Platform) -> int:
    with platform.unit(write=False) as s:
        return s.scalar(select(func.count()).select_from(LogCosignature)) or 0


def test_witness_cosignature_is_stored_and_served_with_the_checkpoint(
    witnessed: Witnessed,
) -> None:
    client, platform, witness = witnessed
    checkpoint = grow(platform, 6)

    assert submit(witnessed, checkpoint.size, cosign(checkpoint.note.encode(), witness)) == 1

    served = client.get("/tlog/checkpoint").content
    assert served.startswith(checkpoint.note.encode())
    assert served.decode().count(f"— {WITNESS} ") == 1
    log_key = parse_verifier_key(client.get("/tlog/vkey").text.strip())
    opened = open_note(served, [log_key, witness.verifier()])
    assert {sig.name for sig in opened.verified} == {platform.settings.log_origin, WITNESS}
    # A client that knows only the log's key still accepts the cosigned note.
    open_checkpoint(served, [log_key], platform.settings.log_origin)
    assert client.get("/api/v1/evidence/log").json()["cosignatures"] == 1

    assert submit(witnessed, checkpoint.size, cosign(checkpoint.note.encode(), witness)) == 0
    assert client.get("/tlog/checkpoint").content == served
    assert stored(platform) == 1


def test_cosignature_by_an_unconfigured_key_is_400_and_stores_nothing(
    witnessed: Witnessed,
) -> None:
    client, platform, _ = witnessed
    checkpoint = grow(platform, 4)
    stranger = new_signer("witness.stranger.example/w2")
    impostor = new_signer(WITNESS)  # the configured witness's name, another key

    for note in (
        cosign(checkpoint.note.encode(), stranger),
        cosign(checkpoint.note.encode(), impostor),
        checkpoint.note.encode(),  # only the log's own signature
        b"not a signed note",
    ):
        error = refused(witnessed, checkpoint.size, note)
        assert (error.status, error.code) == (400, "evidence.cosignature_invalid"), note
    assert stored(platform) == 0
    assert client.get("/tlog/checkpoint").text == checkpoint.note


def test_cosignature_of_another_tree_head_is_409_and_stores_nothing(
    witnessed: Witnessed,
) -> None:
    client, platform, witness = witnessed
    old = grow(platform, 4)
    new = grow(platform, 3)
    forged = Checkpoint(platform.settings.log_origin, new.size, bytes(32)).to_text()

    for size, note in (
        (new.size, cosign(old.note.encode(), witness)),  # right note, wrong size
        (old.size, cosign(new.note.encode(), witness)),
        (new.size, sign(forged, witness)),  # right size, different root
    ):
        error = refused(witnessed, size, note)
        assert (error.status, error.code) == (409, "evidence.cosignature_mismatch"), size
    assert stored(platform) == 0
    assert client.get("/tlog/checkpoint").text == new.note


def test_cosignature_for_an_unpublished_size_is_404(witnessed: Witnessed) -> None:
    _, platform, witness = witnessed
    checkpoint = grow(platform, 2)
    error = refused(witnessed, 3, cosign(checkpoint.note.encode(), witness))
    assert (error.status, error.code) == (404, "evidence.checkpoint_not_found")
    assert stored(platform) == 0


def test_witness_posts_its_cosigned_note_as_text(witnessed: Witnessed) -> None:
    client, platform, witness = witnessed
    old = grow(platform, 3)
    checkpoint = grow(platform, 4)
    url = f"/api/v1/evidence/checkpoints/{checkpoint.size}/cosignatures"

    stranger = new_signer("witness.stranger.example/w2")
    invalid = client.post(url, content=cosign(checkpoint.note.encode(), stranger), headers=TEXT)
    assert_problem(invalid, 400, "evidence.cosignature_invalid")
    mismatch = client.post(url, content=cosign(old.note.encode(), witness), headers=TEXT)
    assert_problem(mismatch, 409, "evidence.cosignature_mismatch")
    assert stored(platform) == 0

    response = client.post(url, content=cosign(checkpoint.note.encode(), witness), headers=TEXT)
    assert response.status_code == 200, response.text
    assert response.json() == {"added": 1}
    served = client.get("/tlog/checkpoint").content
    open_note(served, [witness.verifier()])
    assert served.decode().count(f"— {WITNESS} ") == 1


def test_cosignature_over_another_logs_checkpoint_is_refused(witnessed: Witnessed) -> None:
    client, platform, witness = witnessed
    checkpoint = grow(platform, 5)
    # Same size and root, but the checkpoint of another log (origin line differs): the
    # witness's signature covers that text, not ours.
    elsewhere = Checkpoint("mirror.example/evidence", checkpoint.size, checkpoint.root)
    note = sign(elsewhere.to_text(), witness)

    error = refused(witnessed, checkpoint.size, note)
    assert (error.status, error.code) == (409, "evidence.cosignature_mismatch")
    assert stored(platform) == 0
    # The served note carries no witness line that fails to verify (open_note raises if a
    # trusted key's line does not check out).
    log_key = platform.log_signer.verifier()
    open_note(client.get("/tlog/checkpoint").content, [log_key, witness.verifier()])
