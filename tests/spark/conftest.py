"""Spark test fixtures: one local[2] session for the whole run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A real local Spark session on two cores (needs Java 17+ and the spark extra: both are in CI)."""
    from tbs_doccheck.spark import start_session

    session = start_session("local[2]", app_name="tbs-doccheck tests")
    yield session
    session.stop()
