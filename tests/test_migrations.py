"""Migrations and models agree, and the migrations run down and up again (both backends).

CI fails when a model changes without its migration (STYLE habit 10, after warehouse's
``bin/db-check``): ``compare_metadata`` on a database built by the migrations must find
nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from shuchang.db import make_engine
from shuchang.migrations import alembic_config, downgrade, upgrade
from shuchang.models import metadata

IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


def env_filter(engine: Engine) -> IncludeObject:
    """The ``include_object`` filter migrations/env.py gives autogenerate.

    Some objects are created by the migrations on purpose outside the models (the catalog's
    full-text index: an FTS5 virtual table on SQLite, tsvector columns and a GIN index on
    PostgreSQL); env.py names them. Read the filter from env.py itself (by watching what it
    configures) so this test and `alembic check` never disagree on what is excluded.
    """
    captured: dict[str, Any] = {}
    configure = EnvironmentContext.configure

    def watching(self: EnvironmentContext, *args: Any, **kwargs: Any) -> None:
        captured.update(kwargs)
        configure(self, *args, **kwargs)

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        EnvironmentContext.configure = watching  # type: ignore[method-assign]
        try:
            command.current(config)
        finally:
            EnvironmentContext.configure = configure  # type: ignore[method-assign]
    include: IncludeObject = captured.get("include_object") or (lambda *_: True)
    return include


def differences(engine: Engine, include: IncludeObject | None = None) -> list[tuple[str, str]]:
    """``compare_metadata``: ``(operation, object name)`` per difference."""
    opts: dict[str, Any] = {"compare_type": True}
    if include is not None:
        opts["include_object"] = include
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=opts)
        found = []
        for diff in compare_metadata(context, metadata):
            ops = diff if isinstance(diff, list) else [diff]  # column changes come grouped
            for op in ops:
                operation, *args = op
                name = next((a.name for a in args if getattr(a, "name", None)), None)
                found.append((operation, str(name)))
        return found


def drift(engine: Engine) -> list[tuple[str, str]]:
    """Differences between the models and the database, as the project's env.py sees them."""
    return differences(engine, env_filter(engine))


def alembic_check(engine: Engine) -> None:
    """`alembic check` through the project's own env.py (raises on any difference)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)


def model_tables() -> set[str]:
    return {t.name for t in metadata.sorted_tables}


def test_models_and_migrations_do_not_drift(db_url: str) -> None:
    engine = make_engine(db_url)  # built by the migrations in conftest
    try:
        upgrade(engine)  # a second upgrade finds nothing to do
        alembic_check(engine)
        assert drift(engine) == []
        # What env.py's filter hides is only ever objects the models do not declare: nothing a
        # model declares is missing from the database, and nothing declared differs.
        hidden = set(differences(engine)) - set(drift(engine))
        assert {op for op, _ in hidden} <= {"remove_table", "remove_index", "remove_column"}
    finally:
        engine.dispose()


def test_step_down_to_base_and_up_again(scratch: Engine) -> None:
    # Up one revision at a time, noting the tables; then down one at a time: every
    # downgrade must undo exactly its upgrade. Then up to head, as good as new.
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    tables_at = {"base": {"alembic_version"}}
    for revision in revisions:
        upgrade(scratch, revision)
        tables_at[revision] = set(inspect(scratch).get_table_names())
    assert model_tables() <= tables_at[revisions[-1]]

    for previous, revision in reversed(
        list(zip(["base", *revisions[:-1]], revisions, strict=True))
    ):
        downgrade(scratch, previous)
        assert set(inspect(scratch).get_table_names()) == tables_at[previous], revision

    upgrade(scratch)
    assert drift(scratch) == []
    alembic_check(scratch)
    # The append-only guard came back with the tables.
    with scratch.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO evidence_outbox (kind, subject, actor, payload, payload_digest,"
                " recorded_at) VALUES ('t', 's', 'a', '{}', 'd', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), scratch.begin() as conn:
        conn.execute(text("DELETE FROM evidence_outbox"))


def test_history_is_linear_with_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
    for revision in script.walk_revisions():
        source = Path(revision.path).read_text(encoding="utf-8")
        assert "def downgrade() -> None:" in source, revision.revision
