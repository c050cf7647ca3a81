"""Real databases built by the real migrations: SQLite always, PostgreSQL too.

Every database-backed test runs once per backend (``db_url`` is parametrised). SQLite tests
get a fresh copy of a migrated template file; PostgreSQL tests share one migrated database
per test process and start from empty tables (TRUNCATE, which the outbox's append-only
trigger does not block — only UPDATE and DELETE are history rewrites).

PostgreSQL comes from ``SHUCHANG_TEST_POSTGRES_URL`` (an admin URL; a scratch database is
created and dropped) or the local server. Without a server the PostgreSQL runs are skipped,
except under ``CI=true``, where they fail: CI must prove both backends.
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from shuchang.app import create_app
from shuchang.db import make_engine
from shuchang.domains.evidence.tlog.note import generate_key
from shuchang.migrations import upgrade
from shuchang.models import metadata
from shuchang.platform import Platform
from shuchang.settings import Settings

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"
DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("SHUCHANG_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = os.environ["SHUCHANG_TEST_POSTGRES_URL"]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"shuchang_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is mandatory in CI and unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {admin_url}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "shuchang.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


@pytest.fixture
def scratch(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the same backend as ``db_url``, dropped afterwards."""
    if db_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield engine
        engine.dispose()
        return
    admin = create_engine(os.environ["SHUCHANG_TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
    name = f"shuchang_migrations_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # The sequencer is driven explicitly in tests (no background thread racing assertions).
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key-test-secret-key-0",
        log_key_file=str(_log_key(tmp_path)),
        settlement_key_file=str(_settlement_key(tmp_path)),
        sequencer=False,
    )


def _settlement_key(tmp_path: Path) -> Path:
    path = tmp_path / "settlement.key"
    if not path.exists():
        path.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    return path


def _log_key(tmp_path: Path) -> Path:
    path = tmp_path / "log.key"
    if not path.exists():
        skey, _ = generate_key(Settings.log_origin)
        path.write_text(skey + "\n")
    return path


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    built = Platform.build(settings)
    yield built
    built.engine.dispose()


@pytest.fixture
def engine(platform: Platform) -> Engine:
    return platform.engine


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(platform.settings, platform)) as test_client:
        yield test_client
