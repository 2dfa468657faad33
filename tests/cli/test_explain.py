"""``explain`` knows every id a user meets, in any case, suggests near misses and lists them all."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tbs_doccheck.cli.app import app
from tbs_doccheck.cli.explain import ERROR_MEANINGS, catalogue
from tbs_doccheck.models import ELEMENT_IDS, ErrorCode
from tbs_doccheck.prebill import registry


def explain(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["explain", *args])


@pytest.mark.parametrize(
    ("what", "says"),
    [
        ("signature", "Feeds requirement(s): R4-qualified-signature"),
        ("C-NEG-NO", "C-NEG-NO: "),
        ("PB021-report-fails", "PB021-report-fails (hold): "),
        ("pb021", "PB021-report-fails (hold): "),
        ("PB090-claim-invalid", "decision error"),
        ("E003-empty", "E003-empty: The file holds no report text"),
        ("e003", "E003-empty: "),
        ("needs_review", "PB023-report-needs-review"),
        ("Needs-Review", "needs_review (review reasons)"),
        ("R4", "R4-qualified-signature: "),
        ("SIGNATURE", "Feeds requirement(s)"),
    ],
)
def test_explain_answers_every_kind_of_id_in_any_case(what: str, says: str) -> None:
    result = explain(what)
    assert result.exit_code == 0, result.output
    assert says in result.stdout


def test_every_id_the_tool_can_print_is_explained() -> None:
    ids = {entry.id for entry in catalogue()}
    assert set(ELEMENT_IDS) <= ids
    assert {info.rule_id for info in registry.all_rules()} <= ids
    assert {code.value for code in ErrorCode} <= ids
    assert "needs_review" in ids


def test_every_error_code_has_a_meaning() -> None:
    assert set(ERROR_MEANINGS) == set(ErrorCode)


def test_consistency_flags_are_explained_when_this_installation_has_them() -> None:
    flags = pytest.importorskip("tbs_doccheck.flags")
    for rule in flags.all_flags():
        result = explain(rule.id.lower())
        assert result.exit_code == 0 and result.stdout.startswith(rule.id)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("signatur", "signature"), ("PB021-report-fail", "PB021-report-fails"), ("E003-empt", "E003-empty")],
)
def test_a_near_miss_gets_a_did_you_mean(typo: str, meant: str) -> None:
    result = explain(typo)
    assert result.exit_code == 2
    assert f"did you mean {meant}" in result.stderr
    assert "explain --list" in result.stderr


def test_an_unknown_id_without_a_near_miss_points_to_the_list() -> None:
    result = explain("zzzzzzzz")
    assert result.exit_code == 2
    assert "unknown id 'zzzzzzzz'" in result.stderr and "did you mean" not in result.stderr


def test_explain_list_groups_every_id() -> None:
    result = explain("--list")
    assert result.exit_code == 0
    for group in ("elements:", "requirements:", "checker rules:", "pre-bill rules:", "error codes:", "review:"):
        assert f"\n{group}\n" in f"\n{result.stdout}"
    for entry in catalogue():
        assert f"  {entry.id}  " in result.stdout


def test_explain_without_an_id_asks_for_one() -> None:
    result = explain()
    assert result.exit_code == 2
    assert "--list" in result.stderr
