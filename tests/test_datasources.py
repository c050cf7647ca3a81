"""Provider data locations resolve inside the data root and to named connections only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shuchang.datasources import DataSources, DataSourceUnavailable, parse_connections
from shuchang.errors import ValidationFailed
from shuchang.settings import Settings


@pytest.fixture
def sources(tmp_path: Path) -> DataSources:
    root = tmp_path / "data"
    (root / "mes").mkdir(parents=True)
    (root / "mes" / "reels.csv").write_text("reel,batch\n1,A\n")
    (tmp_path / "secret.txt").write_text("not yours")
    return DataSources.of(Settings(data_root=str(root)))


@pytest.mark.parametrize("path", ["mes/reels.csv", "/mes/reels.csv", "./mes//reels.csv"])
def test_file_locations_resolve_inside_the_data_root(sources: DataSources, path: str) -> None:
    assert sources.file(path) == sources.root / "mes" / "reels.csv"


@pytest.mark.parametrize("path", ["../secret.txt", "/../secret.txt", "mes/../../secret.txt"])
def test_paths_that_climb_out_of_the_root_are_refused(sources: DataSources, path: str) -> None:
    with pytest.raises(DataSourceUnavailable) as caught:
        sources.file(path)
    assert caught.value.code == "datasource.path_outside_root"


def test_a_link_pointing_outside_the_root_is_refused(sources: DataSources) -> None:
    os.symlink(sources.root.parent / "secret.txt", sources.root / "mes" / "escape.csv")
    with pytest.raises(DataSourceUnavailable) as caught:
        sources.file("mes/escape.csv")
    assert caught.value.code == "datasource.path_outside_root"


@pytest.mark.parametrize("path", ["mes/none.csv", "mes", "/"])
def test_missing_files_and_directories_are_unavailable(sources: DataSources, path: str) -> None:
    with pytest.raises(DataSourceUnavailable) as caught:
        sources.file(path)
    assert caught.value.code == "datasource.file_missing"
    assert caught.value.http_status == 404


@pytest.mark.parametrize("path", ["", "mes/\x00reels.csv"])
def test_empty_or_nul_paths_are_invalid(sources: DataSources, path: str) -> None:
    with pytest.raises(ValidationFailed):
        sources.file(path)


def test_connections_by_name_and_the_default_warehouse(tmp_path: Path) -> None:
    sources = DataSources.of(
        Settings(
            data_root=str(tmp_path), data_connections="wh=sqlite:///x.db; tax=postgresql://h/t"
        )
    )
    assert sources.url("wh") == "sqlite:///x.db"
    assert sources.url("tax") == "postgresql://h/t"
    assert sources.url("default") == f"sqlite:///{tmp_path.resolve() / 'warehouse.db'}"
    with pytest.raises(DataSourceUnavailable) as caught:
        sources.url("other")
    assert caught.value.code == "datasource.connection_unknown"


def test_one_engine_per_connection(tmp_path: Path) -> None:
    sources = DataSources.of(Settings(data_root=str(tmp_path)))
    assert sources.engine("default") is sources.engine("default")
    sources.dispose()


@pytest.mark.parametrize("raw", ["wh", "wh=", "=sqlite:///x.db", "wh=nourl", "a=b://x;a=c://y"])
def test_malformed_connection_settings_fail_at_startup(raw: str) -> None:
    with pytest.raises(ValueError, match="SHUCHANG_DATA_CONNECTIONS"):
        parse_connections(raw)
    with pytest.raises(ValueError, match="SHUCHANG_DATA_CONNECTIONS"):
        Settings.from_env({"SHUCHANG_DATA_CONNECTIONS": raw})
