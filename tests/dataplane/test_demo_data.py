"""The demo region's data that really flows: every SQL and file location of the demo
catalog exists in the data root after seeding, deterministically."""

from __future__ import annotations

from pathlib import Path

from shuchang.datasources import DataSources
from shuchang.demo_catalog import RESOURCES
from shuchang.demo_data import write_demo_data
from shuchang.domains.dataplane import tables
from shuchang.settings import Settings


def test_every_demo_location_has_data_and_seeding_is_deterministic(tmp_path: Path) -> None:
    first = write_demo_data(Settings(data_root=str(tmp_path / "a")))
    second = write_demo_data(Settings(data_root=str(tmp_path / "b")))
    sources = DataSources.of(Settings(data_root=str(first)))
    reflected = tables.Reflected()
    for _, body in RESOURCES.values():
        location = body["location"]
        if location["type"] == "file":
            assert sources.file(location["path"]).stat().st_size > 0
        elif location["type"] == "sql" and location["table"] != "police.vehicle_tracks":
            table = reflected.get(sources.engine("default"), "default", location["table"])
            declared = {f["name"] for f in body["fields"]}
            assert declared <= {c.name for c in table.columns}, location
    sources.dispose()
    assert (first / "warehouse.db").read_bytes() == (second / "warehouse.db").read_bytes()
    mtime = (first / "warehouse.db").stat().st_mtime_ns
    write_demo_data(Settings(data_root=str(first)))  # idempotent: existing data is kept
    assert (first / "warehouse.db").stat().st_mtime_ns == mtime
