"""CSV, JSON Lines and text output of ``check`` results.

Unique CSV headers, needs-review shown, spreadsheet-safe cells.
"""

from __future__ import annotations

import csv
import io

import pytest

from tbs_doccheck import Checker
from tbs_doccheck.models import ELEMENT_IDS
from tbs_doccheck.render import CSV_COLUMNS, RENDERERS

REPORT = (
    "DXA lumbar spine with TBS\nTBS L1-L4: 1.241\nHigh fracture risk.\nRecommendations: calcium.\n"
    "Electronically signed by Jane Roe, MD\n"
)


def test_csv_headers_are_unique_and_name_the_element_flags_apart_from_the_number() -> None:
    assert len(CSV_COLUMNS) == len(set(CSV_COLUMNS))
    assert [f"{e}_ok" for e in ELEMENT_IDS] == [c for c in CSV_COLUMNS if c.endswith("_ok")]
    assert "tbs_value" in CSV_COLUMNS and "needs_review" in CSV_COLUMNS


def test_a_csv_row_reads_back_through_dictreader_with_every_column(checker: Checker) -> None:
    result = checker.check_text(REPORT, "r1")
    rows = list(csv.DictReader(io.StringIO("".join(RENDERERS["csv"]([result])))))
    assert len(rows) == 1 and set(rows[0]) == set(CSV_COLUMNS)
    assert rows[0]["tbs_value"] == "1.241" and rows[0]["tbs_value_ok"] == "yes"
    assert rows[0]["needs_review"] == ("yes" if result.needs_review else "no")


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "csv"])
def test_every_format_renders_a_result_that_needs_review_with_its_reason(checker: Checker, fmt: str) -> None:
    result = checker.check_text(REPORT, "r1").model_copy(
        update={"needs_review": True, "review_reasons": ["tbs_value: two candidate current values"]}
    )
    out = "".join(RENDERERS[fmt]([result]))
    assert "two candidate current values" in out
