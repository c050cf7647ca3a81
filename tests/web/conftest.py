"""Console tests run with manual approval and the lenient rule, as a pilot region would start:
a registration with a valid identifier is verified at once and waits for the operator."""

from __future__ import annotations

import pytest

from shuchang.settings import Settings


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key-test-secret-key-0",
        approval="manual",
        review_rule="lenient",
    )
