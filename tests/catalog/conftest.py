"""Who acts in the catalog tests: providers, a consumer, the operator, the regulator, a firm.

Each is registered lazily (only the tests that name them pay for them). ``make_client``
builds the app on the same database with other settings, e.g. other listing reviewers.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text

import factories
from shuchang.app import create_app
from shuchang.domains.evidence.tlog.note import generate_key
from shuchang.models import metadata
from shuchang.platform import Platform
from shuchang.settings import Settings

MakeClient = Callable[..., TestClient]  # type: ignore[type-arg]


@pytest.fixture
def provider(platform: Platform) -> factories.Member:
    return factories.participant(
        platform, kind="government", roles=("provider",), name="东瓯市市场监督管理局"
    )


@pytest.fixture
def other_provider(platform: Platform) -> factories.Member:
    return factories.participant(platform, roles=("provider",), name="东瓯电力有限公司")


@pytest.fixture
def consumer(platform: Platform) -> factories.Member:
    return factories.participant(platform, roles=("consumer",), name="东瓯商业银行股份有限公司")


@pytest.fixture
def operator(platform: Platform) -> factories.Member:
    return factories.operator(platform)


@pytest.fixture
def regulator(platform: Platform) -> factories.Member:
    return factories.regulator(platform)


@pytest.fixture
def service_firm(platform: Platform) -> factories.Member:
    return factories.participant(
        platform, kind="public_institution", roles=("service_firm",), name="东瓯数据合规评估中心"
    )


@pytest.fixture
def make_client(platform: Platform) -> Iterator[MakeClient]:
    """``make_client(listing_reviewers=...)``: the app on the test database with those settings."""
    opened: list[TestClient] = []  # type: ignore[type-arg]

    def make(**overrides: Any) -> TestClient:  # type: ignore[type-arg]
        settings = dataclasses.replace(platform.settings, **overrides)
        shared = Platform(settings=settings, engine=platform.engine, sessions=platform.sessions)
        client = TestClient(create_app(settings, shared))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


# --- one database per module ---------------------------------------------------------------
# Emptying PostgreSQL before every test costs more than most catalog tests themselves. Modules
# whose tests only read a shared data set, only assert that nothing changed, or only look at
# the resources and products they create themselves share one database per backend instead:
# ``cast`` (search, bad input) or ``shared(...)`` (the same fixture names as above, so the
# tests read the same either way). Nothing in such a module may assume an empty catalog.


@dataclasses.dataclass
class Cast:
    """Everyone a module-scoped test needs, registered once."""

    platform: Platform
    client: TestClient  # type: ignore[type-arg]
    provider: factories.Member
    other_provider: factories.Member
    consumer: factories.Member
    operator: factories.Member
    regulator: factories.Member
    service_firm: factories.Member


def shared(*names: str) -> Any:
    """Module fixtures named like the per-test ones, taken from the module's ``cast``.

    ``client, provider = shared("client", "provider")`` at the top of a test module.
    """

    def one(name: str) -> Any:
        @pytest.fixture(name=name)
        def from_cast(cast: Cast) -> Any:
            return getattr(cast, name)

        return from_cast

    return tuple(one(n) for n in names) if len(names) > 1 else one(names[0])


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Like ``db_url``, but one fresh database for a whole module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("catalog") / "shuchang.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture(scope="module")
def cast(module_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cast]:
    key = tmp_path_factory.mktemp("key") / "log.key"
    key.write_text(generate_key(Settings.log_origin)[0] + "\n")
    settings = Settings(
        database_url=module_url,
        secret_key="test-secret-key-test-secret-key-0",
        log_key_file=str(key),
        sequencer=False,
    )
    platform = Platform.build(settings)
    with TestClient(create_app(settings, platform)) as client:
        yield Cast(
            platform=platform,
            client=client,
            provider=factories.participant(
                platform, kind="government", roles=("provider",), name="东瓯市市场监督管理局"
            ),
            other_provider=factories.participant(
                platform, kind="government", roles=("provider",), name="国家税务总局东瓯市税务局"
            ),
            consumer=factories.participant(platform, name="东瓯商业银行股份有限公司"),
            operator=factories.operator(platform),
            regulator=factories.regulator(platform),
            service_firm=factories.participant(
                platform,
                kind="public_institution",
                roles=("service_firm",),
                name="东瓯数据合规评估中心",
            ),
        )
    platform.engine.dispose()
