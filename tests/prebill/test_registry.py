"""The pre-bill rule registry: every reason id declared once, run in id order, documented in the README."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tbs_doccheck.prebill import registry, rules
from tbs_doccheck.prebill.engine import CLAIM_INVALID, OUT_OF_SCOPE, RULE_MODULES, RULES_PASSED

README = Path(__file__).resolve().parent.parent.parent / "README.md"
_ROW = re.compile(r"^\|\s*`(PB\d{3}-[^`]+)`\s*\|\s*(\w+)\s*\|")


def readme_rule_table() -> dict[str, str]:
    """Rule id -> decision, from the table in the README's "Pre-bill review hook" section."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## Pre-bill review hook")
    end = text.find("\n## ", start + 1)
    rows = [_ROW.match(line) for line in text[start : end if end > 0 else None].splitlines()]
    table = [(m.group(1), m.group(2)) for m in rows if m]
    assert len(table) == len({rid for rid, _ in table}), "a rule id is listed twice"
    return dict(table)


def test_the_readme_rule_table_lists_exactly_the_registered_rules_with_their_outcomes() -> None:
    assert readme_rule_table() == {info.rule_id: info.outcome for info in registry.all_rules()}


def test_the_ids_the_engine_emits_itself_are_registered_but_not_run() -> None:
    for rule_id in (OUT_OF_SCOPE, RULES_PASSED, CLAIM_INVALID):
        assert registry.get(rule_id).runs is False
    assert {"PB020-report-missing", "PB021-report-fails", "PB022-report-unreadable"} <= {
        info.rule_id for info in registry.all_rules()
    }


def test_every_rule_function_is_registered_and_runs_once_in_id_order() -> None:
    checks = registry.checks()
    assert len(checks) == len(set(checks))
    defined = [
        f
        for module in RULE_MODULES
        for name, f in inspect.getmembers(module, inspect.isfunction)
        if name.startswith("rule_") and f.__module__ == module.__name__
    ]
    assert set(checks) == set(defined)
    first_ids = [min(i.number for i in registry.all_rules() if i.function is check) for check in checks]
    assert first_ids == sorted(first_ids)
    assert checks[:3] == (rules.rule_bundled, rules.rule_dos_before_effective, rules.rule_units)


def test_every_registered_rule_has_a_summary_and_a_source() -> None:
    for info in registry.all_rules():
        assert info.summary.strip() and "\n" not in info.summary, info.rule_id
        assert info.source.strip(), info.rule_id


def test_describe_says_outcome_summary_source_and_where_the_rule_lives() -> None:
    text = registry.describe("PB010-77089-bundled")
    assert text.startswith("PB010-77089-bundled (hold): 77089 with 77090")
    assert "source: CPT parenthetical" in text
    assert "emitted by: tbs_doccheck.prebill.rules.rule_bundled" in text
    assert registry.describe("PB010") == text
    assert registry.describe(CLAIM_INVALID).startswith("PB090-claim-invalid (hold): ")


def test_describe_refuses_an_unknown_id() -> None:
    with pytest.raises(KeyError):
        registry.describe("PB999-nothing")


@pytest.mark.parametrize(
    ("rule_id", "outcome", "summary", "complaint"),
    [
        ("PB010-again", "hold", "x", "number is taken"),
        ("PB9-short", "hold", "x", "not shaped"),
        ("PB098-Upper", "hold", "x", "not shaped"),
        ("PB098-fine", "deny", "x", "outcome"),
        ("PB098-fine", "hold", "two\nlines", "one non-empty line"),
    ],
)
def test_a_bad_or_second_declaration_is_refused(rule_id: str, outcome: str, summary: str, complaint: str) -> None:
    before = registry.all_rules()
    with pytest.raises(ValueError, match=complaint):
        registry.rule(rule_id, outcome=outcome, summary=summary, source="test")(lambda ctx: [])  # type: ignore[arg-type]
    assert registry.all_rules() == before
