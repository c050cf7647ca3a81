"""Files of dataset products through the gateway: whole, HEAD, ranges, If-Range, digests,
the manifest, column projection, and the evidence entry of the digests."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
from dataplane_support import fields_limit, policy, problem
from datasets_support import BLOB, CSV, JSONL, PARQUET, REELS, data_root, open_dataset
from sqlalchemy import select, update

from shuchang.domains.catalog.models import Product
from shuchang.domains.dataplane.delivery import Offerings
from shuchang.domains.dataplane.delivery_models import FileDigest
from shuchang.domains.dataplane.digests import sm3_hex
from shuchang.domains.dataplane.metering import DELIVERED
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.platform import Platform


def _repr_digest(value: str) -> dict[str, bytes]:
    out = {}
    for item in value.split(","):
        key, _, raw = item.strip().partition("=")
        out[key] = base64.b64decode(raw.strip(":"))
    return out


def test_a_file_is_sent_whole_with_its_digests_and_metered(
    platform: Platform, tmp_path: Path
) -> None:
    with open_dataset(platform, tmp_path, [BLOB]) as plane:
        content = (data_root(plane) / "mes" / "scan.bin").read_bytes()
        answer = plane.get("/data")

        assert answer.status_code == 200, answer.text
        assert answer.content == content
        assert answer.headers["accept-ranges"] == "bytes"
        assert answer.headers["content-length"] == str(len(content))
        digests = _repr_digest(answer.headers["repr-digest"])
        assert digests["sha-256"] == hashlib.sha256(content).digest()
        assert digests["sm3"].hex() == sm3_hex(content)
        assert answer.headers["etag"].startswith('"sha256-')
        (record,) = plane.records()
        assert (record.outcome, record.status, record.bytes) == (DELIVERED, 200, len(content))
        assert record.counted and record.byte_range is None

        with plane.platform.unit(write=False) as s:
            (row,) = s.scalars(select(FileDigest)).all()
            entry = s.get(OutboxEntry, row.evidence_id)
        assert entry is not None and entry.kind == "dataplane.file_digest"
        assert entry.payload["sha256"] == hashlib.sha256(content).hexdigest()


def test_ranges_head_and_if_range(platform: Platform, tmp_path: Path) -> None:
    with open_dataset(platform, tmp_path, [BLOB]) as plane:
        content = (data_root(plane) / "mes" / "scan.bin").read_bytes()
        size = len(content)
        head = plane.request("HEAD", "/data", headers={"Authorization": f"Bearer {plane.token}"})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(size)
        etag = head.headers["etag"]

        cases = {
            "bytes=0-99": (0, 99),
            "bytes=1000-": (1000, size - 1),
            "bytes=-10": (size - 10, size - 1),
            "bytes=5-99999999": (5, size - 1),
        }
        for header, (a, b) in cases.items():
            part = plane.get("/data", headers={"Range": header})
            assert part.status_code == 206, (header, part.text)
            assert part.content == content[a : b + 1], header
            assert part.headers["content-range"] == f"bytes {a}-{b}/{size}"
            assert "repr-digest" in part.headers  # of the whole representation

        past = plane.get("/data", headers={"Range": f"bytes={size}-"})
        problem(past, 416, "dataplane.range_unsatisfiable")
        assert past.headers["content-range"] == f"bytes */{size}"
        multi = plane.get("/data", headers={"Range": "bytes=0-1,5-6"})
        assert multi.status_code == 200 and len(multi.content) == size
        stale = plane.get("/data", headers={"Range": "bytes=0-9", "If-Range": '"other"'})
        assert stale.status_code == 200 and len(stale.content) == size
        fresh = plane.get("/data", headers={"Range": "bytes=0-9", "If-Range": etag})
        assert fresh.status_code == 206 and fresh.content == content[:10]

        records = plane.records()
        assert records[0].method == "HEAD" and not records[0].counted
        assert [r.byte_range for r in records[1:5]] == [
            f"0-99/{size}",
            f"1000-{size - 1}/{size}",
            f"{size - 10}-{size - 1}/{size}",
            f"5-{size - 1}/{size}",
        ]
        assert [r.bytes for r in records[1:5]] == [100, size - 1000, 10, size - 5]


def test_a_changed_file_gets_new_digests_and_a_new_entry(
    platform: Platform, tmp_path: Path
) -> None:
    with open_dataset(platform, tmp_path, [BLOB]) as plane:
        first = plane.get("/data").headers["repr-digest"]
        assert plane.get("/data").headers["repr-digest"] == first
        path = data_root(plane) / "mes" / "scan.bin"
        replacement = path.with_suffix(".new")
        replacement.write_bytes(b"new content of the scan")
        replacement.replace(path)  # atomic, as providers must
        second = plane.get("/data")
        assert second.content == b"new content of the scan"
        assert second.headers["repr-digest"] != first
        with plane.platform.unit(write=False) as s:
            assert len(s.scalars(select(FileDigest)).all()) == 2


def test_the_manifest_lists_every_part_with_digests(platform: Platform, tmp_path: Path) -> None:
    with open_dataset(platform, tmp_path, [BLOB, CSV]) as plane:
        manifest = plane.get("/data/manifest")
        assert manifest.status_code == 200, manifest.text
        parts = manifest.json()["parts"]
        assert {p["name"] for p in parts} == {"scan.bin", "reels.csv"}
        for p in parts:
            content = (data_root(plane) / "mes" / p["name"]).read_bytes()
            assert p["sha256"] == hashlib.sha256(content).hexdigest()
            assert p["sm3"] == sm3_hex(content) and p["size"] == len(content)
            got = plane.get(p["href"])
            assert got.status_code == 200 and got.content == content
        problem(plane.get("/data"), 409, "dataplane.part_required")
        problem(plane.get("/data/" + "0" * 32), 404, "dataplane.part_not_found")
        manifest_record = plane.records()[0]
        assert manifest_record.permitted and not manifest_record.counted


@pytest.mark.parametrize("location", [CSV, JSONL, PARQUET])
def test_a_fields_limit_projects_csv_jsonl_and_parquet(
    platform: Platform, tmp_path: Path, location: dict[str, str]
) -> None:
    offer = policy(fields_limit("reel_code", "voltage_test_passed"))
    with open_dataset(platform, tmp_path, [location], offer) as plane:
        answer = plane.get("/data")
        assert answer.status_code == 200, answer.text
        assert "repr-digest" not in answer.headers and "accept-ranges" not in answer.headers
        rows = _rows(location["format"], answer.content)
        assert len(rows) == len(REELS)
        assert all(set(r) == {"reel_code", "voltage_test_passed"} for r in rows)
        assert rows[0]["reel_code"] == REELS[0]["reel_code"]
        (record,) = plane.records()
        assert record.rows == len(REELS) and record.bytes == len(answer.content)
        # a range of a projected answer is not served: the whole projection comes back
        assert plane.get("/data", headers={"Range": "bytes=0-9"}).status_code == 200


def test_the_consumer_may_ask_for_fewer_columns(platform: Platform, tmp_path: Path) -> None:
    with open_dataset(platform, tmp_path, [CSV]) as plane:
        answer = plane.get("/data", params={"fields": "copper_batch"})
        assert answer.text.splitlines()[0] == "copper_batch"
        assert answer.headers["x-shuchang-columns"] == "copper_batch"


def test_an_unprojectable_file_is_refused_when_fields_are_limited(
    platform: Platform, tmp_path: Path
) -> None:
    offer = policy(fields_limit("reel_code"))
    with open_dataset(platform, tmp_path, [BLOB], offer) as plane:
        problem(plane.get("/data"), 409, "dataplane.unprojectable")
        assert plane.records() == []  # refused in the decision's transaction: nothing counted


def test_a_compute_only_product_never_delivers_rows(platform: Platform, tmp_path: Path) -> None:
    """Transfers refuse compute-only products; should one exist anyway (a product whose kind
    changed under a running transfer), the gateway still refuses to deliver its rows."""
    with open_dataset(platform, tmp_path, [CSV]) as plane:
        with plane.platform.unit() as s:
            s.execute(update(Product).values(kind="compute_only"))
        plane.gateway.datasets.offerings = Offerings()
        problem(plane.get("/data"), 409, "dataplane.not_deliverable")
        assert plane.records() == []


def _rows(fmt: str, content: bytes) -> list[dict[str, object]]:
    import csv
    import json

    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content.decode())))
    if fmt == "jsonl":
        return [json.loads(line) for line in content.decode().splitlines()]
    import pyarrow.parquet as pq

    return list(pq.read_table(io.BytesIO(content)).to_pylist())
