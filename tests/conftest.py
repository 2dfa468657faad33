"""Shared fixtures: one Checker per test session, the dev set when it is beside the checkout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tbs_doccheck import Checker

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
SAMPLES = ROOT / "sample_reports"


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
