"""The sequencer (定序): outbox rows become log leaves in order, in batches, exactly once.

What a verifier relies on: every recorded change ends up in the log exactly once, at
contiguous indices, whatever the batch size, however record() and sequence() interleave,
whether a sequencing transaction dies half-way, and however many sequencers run at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import random
import threading
import time
from datetime import UTC, datetime

import pytest
from evidence_support import (
    assert_exactly_once,
    leaves,
    node_hashes,
    outbox_ids,
    publish,
    queued,
    record_many,
    sequence_all,
)
from sqlalchemy import select

from shuchang.domains.evidence import log
from shuchang.domains.evidence.models import LogCheckpoint, OutboxEntry
from shuchang.domains.evidence.sequencer import Sequencer
from shuchang.domains.evidence.service import record
from shuchang.domains.evidence.tlog.merkle import leaf_hash
from shuchang.platform import Platform

LEAF_FIELDS = {"v", "id", "kind", "subject", "actor", "payload_sha256", "recorded_at"}


class Crash(Exception):
    """Stands in for the process dying inside the sequencing transaction."""


# --- in order, in batches, exactly once -------------------------------------------------


@pytest.mark.parametrize("batch", [1, 3, 7, 64])
def test_small_batches_sequence_every_entry_once_in_outbox_order(
    platform: Platform, batch: int
) -> None:
    ids = record_many(platform, 40)

    rounds = []
    while True:
        with platform.unit() as s:
            done = log.sequence(s, batch)
        if not done.count:
            break
        rounds.append(done)

    assert [r.count for r in rounds[:-1]] == [batch] * (len(rounds) - 1)
    assert [r.start for r in rounds] == [i * batch for i in range(len(rounds))]
    assert sum(r.count for r in rounds) == len(ids)
    assert [outbox_id for _, outbox_id, _ in leaves(platform)] == ids
    assert_exactly_once(platform)


def test_interleaved_record_and_sequence_never_skip_or_repeat(platform: Platform) -> None:
    rng = random.Random(20261126)
    recorded: list[int] = []
    for _ in range(30):
        recorded += record_many(platform, rng.randint(0, 6))
        with platform.unit() as s:
            log.sequence(s, rng.randint(1, 5))
        if rng.random() < 0.3:
            publish(platform)
    sequence_all(platform, batch=4)

    assert [outbox_id for _, outbox_id, _ in leaves(platform)] == recorded
    assert_exactly_once(platform)


def test_entries_recorded_in_the_sequencing_transaction_wait_for_the_next_round(
    platform: Platform,
) -> None:
    first = record_many(platform, 3)
    with platform.unit() as s:
        done = log.sequence(s)
        late = record(s, "test.changed", "object:late", "system", {"late": True})
    assert done.count == 3

    assert queued(platform) == 1
    assert sequence_all(platform) == 1
    assert [outbox_id for _, outbox_id, _ in leaves(platform)] == [*first, late]
    assert_exactly_once(platform)


def test_empty_queue_sequences_nothing(platform: Platform) -> None:
    with platform.unit() as s:
        done = log.sequence(s)
    assert (done.start, done.count) == (0, 0)
    record_many(platform, 2)
    sequence_all(platform)
    with platform.unit() as s:
        done = log.sequence(s)
    assert (done.start, done.count) == (2, 0)


# --- a crash between steps ------------------------------------------------------------------


def test_crash_after_sequencing_rolls_everything_back(platform: Platform) -> None:
    ids = record_many(platform, 12)
    publish(platform)  # the empty tree's checkpoint, so a crash cannot hide behind "no rows"

    with pytest.raises(Crash), platform.unit() as s:
        assert log.sequence(s, 5).count == 5
        log.publish_checkpoint(s, platform.log_signer, platform.log_signer.name)
        raise Crash

    assert leaves(platform) == []
    assert queued(platform) == len(ids)
    with platform.unit(write=False) as s:
        assert [c.size for c in s.scalars(select(LogCheckpoint))] == [0]

    assert sequence_all(platform, batch=5) == len(ids)
    assert [outbox_id for _, outbox_id, _ in leaves(platform)] == ids
    assert_exactly_once(platform)


def test_crash_in_a_later_batch_keeps_the_earlier_batches(platform: Platform) -> None:
    ids = record_many(platform, 9)
    with platform.unit() as s:
        assert log.sequence(s, 4).count == 4

    with pytest.raises(Crash), platform.unit() as s:
        assert log.sequence(s, 4) == log.SequencedBatch(4, 4)
        raise Crash

    assert len(leaves(platform)) == 4
    assert queued(platform) == 5
    assert sequence_all(platform, batch=4) == 5
    assert [outbox_id for _, outbox_id, _ in leaves(platform)] == ids
    assert_exactly_once(platform)


# --- several sequencers at once ----------------------------------------------------------


def test_a_second_sequencer_never_runs_beside_the_first(platform: Platform) -> None:
    """PostgreSQL: the advisory lock makes the second give way at once with a count of 0.
    SQLite: the database write lock (BEGIN IMMEDIATE) makes it wait, then it takes the rest."""
    postgresql = platform.engine.dialect.name == "postgresql"
    ids = record_many(platform, 10)
    results: list[log.SequencedBatch] = []

    with platform.unit() as holder:
        assert log.sequence(holder, 4).count == 4  # holds the lock until this commits
        other = threading.Thread(target=_sequence_once, args=(platform, results))
        other.start()
        other.join(timeout=10 if postgresql else 0.3)
        if postgresql:
            assert not other.is_alive(), "the second sequencer waited instead of giving way"
            assert results == [log.SequencedBatch(0, 0, locked=False)]
        else:
            assert other.is_alive(), "the second sequencer ran beside an open sequencing unit"
    other.join(timeout=10)

    if postgresql:
        assert sequence_all(platform) == 6
    else:
        assert results == [log.SequencedBatch(4, 6)]
    assert [outbox_id for _, outbox_id, _ in leaves(platform)] == ids
    assert_exactly_once(platform)


def _sequence_once(platform: Platform, results: list[log.SequencedBatch]) -> None:
    with platform.unit() as s:
        results.append(log.sequence(s))


def test_concurrent_sequencers_and_recorder_leave_no_gaps_or_duplicates(
    platform: Platform,
) -> None:
    """4 sequencer threads, each round on its own connection, while a fifth keeps recording."""
    rounds, per_round = 50, 3
    stop = threading.Event()
    errors: list[BaseException] = []
    batches: list[log.SequencedBatch] = []
    lock = threading.Lock()

    def recorder() -> None:
        try:
            for _ in range(rounds):
                record_many(platform, per_round)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            stop.set()

    def sequencer() -> None:
        try:
            while not stop.is_set():
                with platform.unit() as s:
                    done = log.sequence(s, 5)
                with lock:
                    batches.append(done)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=recorder)]
    threads += [threading.Thread(target=sequencer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    # The rounds that sequenced anything took turns: their ranges tile the log without overlap.
    ranges = sorted((b.start, b.start + b.count) for b in batches if b.count)
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
    assert not ranges or ranges[0][0] == 0
    sequence_all(platform, batch=5)
    assert len(leaves(platform)) == rounds * per_round
    assert_exactly_once(platform)


# --- leaf data ---------------------------------------------------------------------------


def test_leaf_is_rfc8785_canonical_json_of_exactly_the_documented_fields(
    platform: Platform,
) -> None:
    payload = {"z": {"y": 2, "x": "é"}, "b": 1, "a": "数场", "c": [True, None]}
    # RFC 8785 by hand: keys sorted, no whitespace, non-ASCII as raw UTF-8, no escapes.
    canonical_payload = '{"a":"数场","b":1,"c":[true,null],"z":{"x":"é","y":2}}'.encode()
    with platform.unit() as s:
        entry_id = record(s, "数据产品.登记", "product:东瓯-1", "participant:甲", payload)
    sequence_all(platform)

    [(idx, outbox_id, data)] = leaves(platform)
    with platform.unit(write=False) as s:
        row = s.get(OutboxEntry, entry_id)
        assert row is not None
        recorded_at = row.recorded_at

    fields = json.loads(data)
    assert (idx, outbox_id) == (0, entry_id)
    assert set(fields) == LEAF_FIELDS
    assert fields == {
        "v": 1,
        "id": entry_id,
        "kind": "数据产品.登记",
        "subject": "product:东瓯-1",
        "actor": "participant:甲",
        "payload_sha256": hashlib.sha256(canonical_payload).hexdigest(),
        "recorded_at": recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    expected = (
        f'{{"actor":"participant:甲","id":{entry_id},"kind":"数据产品.登记",'
        f'"payload_sha256":"{fields["payload_sha256"]}","recorded_at":"{fields["recorded_at"]}",'
        '"subject":"product:东瓯-1","v":1}'
    ).encode()
    assert data == expected
    parsed = datetime.strptime(fields["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert parsed.replace(tzinfo=UTC) == recorded_at


def test_stored_level_zero_nodes_are_the_leaf_hashes(platform: Platform) -> None:
    record_many(platform, 5)
    sequence_all(platform, batch=2)

    assert node_hashes(platform, 0) == [leaf_hash(data) for _, _, data in leaves(platform)]


def test_long_kind_is_logged_or_refused_cleanly_on_both_backends(
    platform: Platform, request: pytest.FixtureRequest
) -> None:
    """record() promises kinds of 1..128 characters; one of 100 must either be refused with
    its ValueError or recorded and logged, the same on both backends."""
    kind = "participant." + "k" * 88
    try:
        with platform.unit() as s:
            entry_id = record(s, kind, "object:long", "system", {})
    except ValueError:
        return  # refused up front: acceptable
    sequence_all(platform)
    [(_, outbox_id, data)] = leaves(platform)
    assert outbox_id == entry_id
    assert json.loads(data)["kind"] == kind


# --- the background sequencer ---------------------------------------------------------------


def test_background_tick_sequences_and_publishes_the_first_checkpoint(
    platform: Platform,
) -> None:
    ids = record_many(platform, 7)
    sequencer = Sequencer(platform)

    assert sequencer.tick() == len(ids)
    with platform.unit(write=False) as s:
        latest = log.latest_checkpoint(s)
    assert latest is not None and latest.size == len(ids)
    assert_exactly_once(platform)

    # Within the checkpoint interval the next round sequences but does not publish again.
    record_many(platform, 2)
    assert sequencer.tick() == 2
    with platform.unit(write=False) as s:
        latest = log.latest_checkpoint(s)
    assert latest is not None and latest.size == len(ids)
    assert sequencer.tick() == 0
    assert outbox_ids(platform) == [outbox_id for _, outbox_id, _ in leaves(platform)]


def test_background_thread_runs_until_stopped(platform: Platform) -> None:
    fast = dataclasses.replace(platform.settings, sequencer_interval_ms=10)
    shared = Platform(settings=fast, engine=platform.engine, sessions=platform.sessions)
    ids = record_many(platform, 5)
    sequencer = Sequencer(shared)
    sequencer.start()
    try:
        deadline = time.monotonic() + 10
        while queued(platform) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sequencer.stop()
    assert [outbox_id for _, outbox_id, _ in leaves(platform)] == ids
    with platform.unit(write=False) as s:
        latest = log.latest_checkpoint(s)
    assert latest is not None and latest.size == len(ids)


def test_sequencer_round_that_loses_a_race_to_publish_carries_on(
    platform: Platform, request: pytest.FixtureRequest
) -> None:
    """Several processes may run a sequencer. When another one publishes the same checkpoint
    a moment earlier, this round must end normally: an exception here is one that
    Sequencer._run does not catch (it catches OperationalError only), so it would stop the
    background thread for good."""
    record_many(platform, 5)
    sequence_all(platform)  # sequenced by a process that has not published yet
    outcome: list[object] = []

    def our_round() -> None:
        try:
            outcome.append(Sequencer(platform).tick())
        except Exception as exc:  # reported by the main thread
            outcome.append(exc)

    with platform.unit() as s:
        # Another process publishes the size-5 checkpoint; before it commits, our round
        # wants to publish exactly the same one.
        log.publish_checkpoint(s, platform.log_signer, platform.log_signer.name)
        ours = threading.Thread(target=our_round)
        ours.start()
        time.sleep(0.3)
    ours.join(timeout=15)

    assert outcome == [0]
    with platform.unit(write=False) as s:
        assert list(s.scalars(select(LogCheckpoint.size))) == [5]
