"""Shared fixtures: one Checker per test session, the dev set when it is beside the checkout."""

from __future__ import annotations

import json

import pytest

from tbs_doccheck import Checker

try:  # tests/ on sys.path (pytest's rootdir conftest) or as a package
    from paths import DEV_SET
except ImportError:  # pragma: no cover
    from tests.paths import DEV_SET


@pytest.fixture(scope="session")
def checker() -> Checker:
    """The real pipeline, built once."""
    return Checker()


@pytest.fixture(scope="session")
def dev_rows() -> list[dict]:
    """The shared labelled dev set (skips where the shared folder is not beside the checkout)."""
    if not DEV_SET.is_file():
        pytest.skip(f"dev set not found at {DEV_SET}")
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
