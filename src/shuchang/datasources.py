"""Where a provider's data lives behind its connector (数据源): files under a data root and
SQL databases by connection name.

A resource's ``location`` names a file (``{"type": "file", "path": ...}``) or a table
(``{"type": "sql", "table": ..., "connection": ...}``); delivery, compute and data elements
all read provider data through this module, so one rule decides what a location may reach:

* **files** resolve inside ``SHUCHANG_DATA_ROOT`` as if it were the file system's root (a
  leading ``/`` is the data root, ``..`` cannot climb out, and a symbolic link that points
  outside the root is refused after resolution);
* **connections** are named in ``SHUCHANG_DATA_CONNECTIONS`` (``name=url;name=url``); the name
  ``default`` falls back to the SQLite file ``warehouse.db`` in the data root.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, create_engine

from shuchang.errors import NotFound, ValidationFailed
from shuchang.settings import Settings

DEFAULT_CONNECTION = "default"
DEFAULT_WAREHOUSE = "warehouse.db"


class DataSourceUnavailable(NotFound):
    """The location names nothing this connector can reach."""

    default_code = "datasource.unavailable"
    default_zh = "数据源不可用"
    default_en = "Data source unavailable"


def parse_connections(raw: str) -> dict[str, str]:
    """``name=url;name=url`` → ``{name: url}``; a malformed entry is a ValueError."""
    out: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(";")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or not name or not url or "://" not in url:
            raise ValueError(
                f"SHUCHANG_DATA_CONNECTIONS entries are name=url, separated by ';' (got {item!r})"
            )
        if name in out:
            raise ValueError(f"SHUCHANG_DATA_CONNECTIONS names {name!r} twice")
        out[name] = url
    return out


@dataclass
class DataSources:
    """The data root and named connections of one provider connector."""

    root: Path
    connections: dict[str, str]
    _engines: dict[str, Engine] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> DataSources:
        root = Path(settings.data_root) if settings.data_root else Path.cwd() / "shuchang-data"
        return cls(root.resolve(), parse_connections(settings.data_connections))

    def file(self, path: str) -> Path:
        """The real path of ``path`` inside the data root; DataSourceUnavailable when it is
        outside the root (after resolving links) or is not a regular file."""
        if not path or "\x00" in path:
            raise ValidationFailed("A file path is required", "须提供文件路径", field="path")
        relative = PurePosixPath("/", path).relative_to("/")
        if ".." in relative.parts:
            raise _outside(path)
        resolved = (self.root / relative).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise _outside(path)
        if not resolved.is_file():
            raise DataSourceUnavailable(
                f"No file at {path} in the data root",
                f"数据目录中没有文件 {path}",
                code="datasource.file_missing",
            )
        return resolved

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of connection ``name``."""
        if name in self.connections:
            return self.connections[name]
        if name == DEFAULT_CONNECTION:
            return f"sqlite:///{self.root / DEFAULT_WAREHOUSE}"
        raise DataSourceUnavailable(
            f"No data connection named {name!r} is configured",
            f"未配置名为 {name!r} 的数据连接",
            code="datasource.connection_unknown",
            field="connection",
        )

    def engine(self, name: str) -> Engine:
        """One pooled engine per connection name, created on first use."""
        url = self.url(name)
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = self._engines[name] = create_engine(url, pool_pre_ping=True)
            return engine

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _outside(path: str) -> DataSourceUnavailable:
    return DataSourceUnavailable(
        f"{path} is outside the data root",
        f"{path} 不在数据目录内",
        code="datasource.path_outside_root",
        field="path",
    )
