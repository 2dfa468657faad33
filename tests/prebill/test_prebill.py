"""Pre-bill review: every rule, the claim contract, the rule data, name matching and the CLI's exit codes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from tbs_doccheck.checker.core import Checker
from tbs_doccheck.cli.app import app as cli
from tbs_doccheck.prebill import registry
from tbs_doccheck.prebill.contract import Claim, Decision
from tbs_doccheck.prebill.data import PrebillRules, load_prebill_rules
from tbs_doccheck.prebill.engine import (
    CLAIM_INVALID,
    OUT_OF_SCOPE,
    RULES_PASSED,
    invalid_claim_decision,
    prebill,
    prebill_many,
)
from tbs_doccheck.prebill.people import classify_credential, classify_taxonomy, name_tokens, same_person

try:  # the format builders sit beside this file; tests/ may or may not become a package
    from tests import formats as F
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]

DATA = Path(__file__).resolve().parent.parent / "data"
CLAIMS = DATA / "claims"

#: A report that documents all five elements, signed by Harold Smith, MD. The patient's
#: name is a marker: it must never reach a reason message.
GOOD_REPORT = (CLAIMS / "reports" / "C-RELEASE.txt").read_text()
MARKER = "Quixotebrook"
PRELIMINARY_REPORT = GOOD_REPORT.replace(
    "Electronically signed by Harold Smith, MD on 03/11/2025 09:14",
    "PRELIMINARY REPORT - pending physician signature. Dictated by Harold Smith, MD.",
)
NO_RISK_NO_PLAN_REPORT = (
    GOOD_REPORT.replace(
        "Osteopenia with partially degraded bone microarchitecture. TBS-adjusted FRAX 10-year probability of "
        "major osteoporotic fracture 21.4% and hip fracture 3.6%: high fracture risk.",
        "Osteopenia with partially degraded bone microarchitecture.",
    )
    .replace(
        "Pharmacologic treatment is recommended. Calcium and vitamin D supplementation; fall prevention. "
        "Repeat DXA in 2 years.",
        "None.",
    )
)
SIGNED_LAST_FIRST = GOOD_REPORT.replace("Harold Smith, MD", "Smith, Harold J., M.D.")

SMITH = {"name": "Harold Smith", "credential": "MD", "npi": "1245319599"}


def claim(**overrides: Any) -> dict[str, Any]:
    """The issue's example claim (77092, Harold Smith MD, 2025-03-10, no report), with overrides."""
    base: dict[str, Any] = {
        "claim_id": "C01",
        "patient_id": "P1",
        "date_of_service": "2025-03-10",
        "lines": [{"code": "77092", "units": 1, "modifiers": []}],
        "rendering_provider": dict(SMITH),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def line(code: str, units: int = 1, **extra: Any) -> dict[str, Any]:
    return {"code": code, "units": units, "modifiers": [], **extra}


#: The DXA study (77080) a TBS calculation (77089, 77091) is made from, on the claim's date and the day after.
DXA = line("77080")
DXA_0311 = line("77080", date_of_service="2025-03-11")


def rule_ids(decision: Decision) -> list[str]:
    """The decision's reason ids, each checked against the documented registry on the way."""
    for reason in decision.reasons:
        assert registry.get(reason.rule_id).outcome == reason.outcome, reason.rule_id
    return [r.rule_id for r in decision.reasons]


# --------------------------------------------------------------------------------------------
# The rule data
# --------------------------------------------------------------------------------------------


def test_the_packaged_rule_data_loads_with_the_documented_defaults() -> None:
    rules = load_prebill_rules()
    assert rules.tbs_codes == ["77089", "77090", "77091", "77092"]
    assert rules.earliest_date_of_service == date(2022, 1, 1)
    assert rules.units_limit("77092") == 1
    assert {"77090", "77091", "77092"} == set(rules.bundling[0].not_with)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"surprise": 1}, "Extra inputs are not permitted"),
        ({"report_required_codes": ["77092", "99213"]}, "not listed in tbs_codes"),
        ({"units_limit_per_date_of_service": 0}, "greater than or equal to 1"),
        ({"unqualified_credentials": ["M.D."]}, "both qualified and unqualified"),
        ({"bundling": [{"code": "77089", "not_with": ["77092"], "scope": "claim"}]}, "Extra inputs"),
    ],
)
def test_rule_data_with_unknown_keys_or_inconsistent_codes_is_refused(
    tmp_path: Path, change: dict[str, Any], complaint: str
) -> None:
    data = load_prebill_rules().model_dump(mode="json") | change
    path = tmp_path / "prebill_rules.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match=complaint):
        load_prebill_rules(path)


def test_every_rule_id_is_documented_with_a_distinct_number() -> None:
    ids = [info.rule_id for info in registry.all_rules()]
    numbers = [rid[:5] for rid in ids]
    assert len(numbers) == len(set(numbers))
    assert all(rid[:2] == "PB" and rid[2:5].isdigit() and rid[5] == "-" for rid in ids)
    assert {OUT_OF_SCOPE, RULES_PASSED, CLAIM_INVALID} <= set(ids)


# --------------------------------------------------------------------------------------------
# The claim contract
# --------------------------------------------------------------------------------------------


def test_the_contract_ignores_keys_it_does_not_know() -> None:
    parsed = Claim.model_validate(claim(billing_note="x", lines=[line("77092", extra_field=True)]))
    assert parsed.lines[0].code == "77092"


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        (claim(lines=[{"code": "77092", "units": "1"}]), "lines.0.units"),
        (claim(lines=[{"code": "77092", "units": 1.0}]), "lines.0.units"),
        (claim(lines=[{"code": "77092", "units": True}]), "lines.0.units"),
        (claim(lines=[{"code": "77092", "units": 0}]), "lines.0.units"),
        (claim(lines=[{"code": 77092, "units": 1}]), "lines.0.code"),
        (claim(lines=[]), "lines"),
        (claim(date_of_service="03/10/2025"), "date_of_service"),
        (claim(date_of_service=1741564800), "date_of_service"),
        (claim(date_of_service=None), "no date_of_service"),
        (claim(claim_id=1), "claim_id"),
        (claim(report={"text": "x", "path": "y"}), "exactly one"),
        (claim(report={}), "exactly one"),
        (claim(rendering_provider={"name": "Harold Smith", "npi": "12345"}), "npi"),
        (claim(rendering_provider={"name": "Harold Smith", "taxonomy": "2085-R"}), "taxonomy"),
    ],
)
def test_the_contract_refuses_loosely_typed_claims(bad: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        Claim.model_validate(bad)


def test_a_line_date_overrides_the_claim_date() -> None:
    parsed = Claim.model_validate(claim(date_of_service=None, lines=[line("77091", date_of_service="2025-01-02")]))
    assert parsed.lines[0].date_of_service == date(2025, 1, 2)


# --------------------------------------------------------------------------------------------
# Rules that need no report (77090/77091 and codes outside the family)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("story", "the_claim", "decision", "ids"),
    [
        ("a claim without TBS codes is out of scope", claim(lines=[line("99213")]), "release", [OUT_OF_SCOPE]),
        ("a technical-only claim with its DXA passes", claim(lines=[DXA, line("77091")]), "release", [RULES_PASSED]),
        (
            "77090 and 77091 may share a claim on different dates",
            claim(lines=[DXA, line("77091"), line("77090", date_of_service="2025-03-11")]),
            "release",
            [RULES_PASSED],
        ),
        (
            "77089 with 77091 on one claim is bundled",
            claim(lines=[DXA, line("77089"), line("77091")]),
            "hold",
            ["PB010-77089-bundled", "PB020-report-missing"],
        ),
        (
            "77089 with 77090 on one claim is bundled even on different dates",
            claim(lines=[DXA, line("77089"), line("77090", date_of_service="2025-03-11")]),
            "hold",
            ["PB010-77089-bundled", "PB020-report-missing"],
        ),
        (
            "a date of service before 2022 is held",
            claim(date_of_service="2021-12-31", lines=[DXA, line("77091")]),
            "hold",
            ["PB011-dos-before-2022"],
        ),
        (
            "the first day of 2022 is fine",
            claim(date_of_service="2022-01-01", lines=[DXA, line("77091")]),
            "release",
            [RULES_PASSED],
        ),
        ("two units on one line are held", claim(lines=[DXA, line("77091", 2)]), "hold", ["PB012-units-exceed"]),
        (
            "one unit on each of two lines of one date is held",
            claim(lines=[DXA, line("77091"), line("77091")]),
            "hold",
            ["PB012-units-exceed"],
        ),
        (
            "one unit on each of two dates is fine",
            claim(lines=[DXA, line("77091"), line("77091", date_of_service="2025-03-11"), DXA_0311]),
            "release",
            [RULES_PASSED],
        ),
    ],
)
def test_rules_that_need_no_report(story: str, the_claim: dict[str, Any], decision: str, ids: list[str]) -> None:
    result = prebill(the_claim)
    assert (result.decision, rule_ids(result)) == (decision, ids), story
    assert result.check is None


def test_held_lines_are_named_by_number() -> None:
    result = prebill(claim(lines=[line("99213"), line("77091", 3), DXA]))
    (reason,) = result.reasons
    assert reason.lines == [2]
    assert "3 units on 2025-03-10" in reason.message and "limit is 1" in reason.message


@pytest.mark.parametrize(
    ("change", "the_claim", "ids"),
    [
        ({"units_limit_per_date_of_service": 2}, claim(lines=[DXA, line("77091", 2)]), [RULES_PASSED]),
        ({"units_limit_overrides": {"77091": 3}}, claim(lines=[DXA, line("77091", 3)]), [RULES_PASSED]),
        ({"units_limit_overrides": {"77091": 3}}, claim(lines=[DXA, line("77091", 4)]), ["PB012-units-exceed"]),
        (
            {"earliest_date_of_service": "2023-01-01"},
            claim(date_of_service="2022-06-01", lines=[DXA, line("77091")]),
            ["PB011-dos-before-2022"],
        ),
        ({"bundling": []}, claim(lines=[DXA, line("77089"), line("77091")]), ["PB020-report-missing"]),
        ({"report_required_codes": ["77092"]}, claim(lines=[DXA, line("77089")]), [RULES_PASSED]),
    ],
)
def test_codes_and_limits_come_from_the_rule_data(
    change: dict[str, Any], the_claim: dict[str, Any], ids: list[str]
) -> None:
    rules = PrebillRules.model_validate(load_prebill_rules().model_dump() | change)
    assert rule_ids(prebill(the_claim, rules=rules)) == ids


# --------------------------------------------------------------------------------------------
# Rules over claims of one patient (an 837 batch)
# --------------------------------------------------------------------------------------------


def test_77089_on_one_claim_and_77091_on_anothers_same_date_holds_both(checker: Checker) -> None:
    tech = Claim.model_validate(claim(claim_id="T", lines=[DXA, line("77091")]))
    glob = Claim.model_validate(claim(claim_id="G", lines=[line("77089")], report={"text": GOOD_REPORT}))
    first, second = prebill_many([tech, glob], checker=checker)
    assert (first.decision, rule_ids(first)) == ("hold", ["PB010-77089-bundled"])
    assert "claim G line 1" in first.reasons[0].message
    assert first.reasons[0].lines == [2]
    assert (second.decision, rule_ids(second)) == ("hold", ["PB010-77089-bundled"])


@pytest.mark.parametrize(
    ("story", "other", "held"),
    [
        ("another patient's claim does not count", {"patient_id": "P2"}, False),
        ("another date does not count", {"date_of_service": "2025-03-11"}, False),
        ("the same patient and date does", {}, True),
    ],
)
def test_units_are_counted_across_one_patients_claims(story: str, other: dict[str, Any], held: bool) -> None:
    a = Claim.model_validate(claim(claim_id="A", lines=[line("77091"), DXA]))
    b = Claim.model_validate(claim(claim_id="B", lines=[line("77091"), DXA], **other))
    decisions = prebill_many([a, b])
    assert [d.decision for d in decisions] == (["hold", "hold"] if held else ["release", "release"]), story


def test_a_claim_sent_twice_in_one_batch_is_a_duplicate() -> None:
    twin = claim(lines=[line("77091"), DXA])
    decisions = prebill_many([Claim.model_validate(twin), Claim.model_validate(twin)])
    assert [rule_ids(d) for d in decisions] == [["PB012-units-exceed"]] * 2


# --------------------------------------------------------------------------------------------
# Rules on the report and the provider (the real checker)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("story", "the_claim", "decision", "ids"),
    [
        (
            "a documented, signed, qualified 77092 is released",
            claim(report={"text": GOOD_REPORT}),
            "release",
            [RULES_PASSED],
        ),
        ("77092 without a report is held", claim(), "hold", ["PB020-report-missing"]),
        ("77089 without a report is held", claim(lines=[DXA, line("77089")]), "hold", ["PB020-report-missing"]),
        ("an empty report is no report", claim(report={"text": "  \n"}), "hold", ["PB020-report-missing"]),
        ("a preliminary report fails", claim(report={"text": PRELIMINARY_REPORT}), "hold", ["PB021-report-fails"]),
        (
            "a report without risk or plan fails",
            claim(report={"text": NO_RISK_NO_PLAN_REPORT}),
            "hold",
            ["PB021-report-fails"],
        ),
        (
            "a report path that does not exist is unreadable",
            claim(report={"path": "/nonexistent/C01.txt"}),
            "hold",
            ["PB022-report-unreadable"],
        ),
        (
            "a technologist as rendering provider is held",
            claim(
                rendering_provider={"name": "Harold Smith", "credential": "R.T.(R)(BD)"},
                report={"text": GOOD_REPORT},
            ),
            "hold",
            ["PB030-provider-not-qualified"],
        ),
        (
            "a scribe as rendering provider is held",
            claim(rendering_provider={"name": "Harold Smith", "credential": "Scribe"}, report={"text": GOOD_REPORT}),
            "hold",
            ["PB030-provider-not-qualified"],
        ),
        (
            "a technologist's NUCC taxonomy is held whatever the credential",
            claim(
                rendering_provider={"name": "Harold Smith", "credential": "MD", "taxonomy": "2471B0102X"},
                report={"text": GOOD_REPORT},
            ),
            "hold",
            ["PB030-provider-not-qualified"],
        ),
        (
            "a nurse practitioner's taxonomy is enough",
            claim(rendering_provider={"name": "Harold Smith", "taxonomy": "363LF0000X"}, report={"text": GOOD_REPORT}),
            "release",
            [RULES_PASSED],
        ),
        (
            "without credential or taxonomy, the matching signer's credential stands in",
            claim(rendering_provider={"name": "HAROLD SMITH"}, report={"text": GOOD_REPORT}),
            "release",
            [RULES_PASSED],
        ),
        (
            "an unrecognised credential goes to review",
            claim(rendering_provider={"name": "Harold Smith", "credential": "PhD"}, report={"text": GOOD_REPORT}),
            "review",
            ["PB031-provider-unverified"],
        ),
        (
            "an organisation as rendering provider goes to review",
            claim(
                rendering_provider={
                    "name": "Northwind Bone Clinic",
                    "taxonomy": "2085R0202X",
                    "entity": "organization",
                },
                report={"text": GOOD_REPORT},
            ),
            "review",
            ["PB031-provider-unverified"],
        ),
        (
            "no rendering provider goes to review",
            claim(rendering_provider=None, report={"text": GOOD_REPORT}),
            "review",
            ["PB031-provider-unverified"],
        ),
        (
            "a report signed by someone else goes to review",
            claim(rendering_provider={"name": "Priya Natarajan", "credential": "MD"}, report={"text": GOOD_REPORT}),
            "review",
            ["PB040-signer-mismatch"],
        ),
        (
            "a signer written Last, First with initials and credentials still matches",
            claim(report={"text": SIGNED_LAST_FIRST}),
            "release",
            [RULES_PASSED],
        ),
        (
            "a line's own rendering provider is the one judged",
            claim(
                rendering_provider={"name": "Northwind Bone Clinic", "entity": "organization"},
                lines=[line("77092", rendering_provider=SMITH)],
                report={"text": GOOD_REPORT},
            ),
            "release",
            [RULES_PASSED],
        ),
        (
            "any hold outranks a review",
            claim(
                rendering_provider={"name": "Priya Natarajan", "credential": "MD"},
                date_of_service="2021-06-01",
                report={"text": GOOD_REPORT},
            ),
            "hold",
            ["PB011-dos-before-2022", "PB040-signer-mismatch"],
        ),
    ],
)
def test_rules_on_the_report_and_the_provider(
    checker: Checker, story: str, the_claim: dict[str, Any], decision: str, ids: list[str]
) -> None:
    result = prebill(the_claim, checker=checker)
    assert (result.decision, rule_ids(result)) == (decision, ids), story


def test_a_failing_report_is_held_naming_what_is_missing_and_quoting_no_report_text(checker: Checker) -> None:
    result = prebill(claim(report={"text": NO_RISK_NO_PLAN_REPORT}), checker=checker)
    (reason,) = result.reasons
    assert "fracture_risk" in reason.message and "recommendations" in reason.message
    assert result.check is not None and set(result.check.missing) == {"fracture_risk", "recommendations"}
    for text_line in NO_RISK_NO_PLAN_REPORT.splitlines():
        if len(text_line) > 12:
            assert text_line not in reason.message
    assert MARKER not in result.model_dump_json()


def test_report_text_given_to_prebill_overrides_the_claims_link(checker: Checker) -> None:
    result = prebill(claim(report={"path": "/nonexistent.txt"}), GOOD_REPORT, checker=checker)
    assert result.decision == "release"


def test_the_report_is_looked_up_by_claim_id_in_a_reports_folder(checker: Checker, tmp_path: Path) -> None:
    (tmp_path / "C01.txt").write_text(GOOD_REPORT)
    (tmp_path / "C011.txt").write_text(PRELIMINARY_REPORT)
    assert prebill(claim(), checker=checker, reports_dir=tmp_path).decision == "release"


def test_two_reports_for_one_claim_are_ambiguous(checker: Checker, tmp_path: Path) -> None:
    (tmp_path / "C01.txt").write_text(GOOD_REPORT)
    (tmp_path / "C01.rtf").write_text("{\\rtf1 x}")
    result = prebill(claim(), checker=checker, reports_dir=tmp_path)
    assert rule_ids(result) == ["PB022-report-unreadable"]
    assert "C01.rtf, C01.txt" in result.reasons[0].message


def fhir_bundle(*ids: str) -> bytes:
    """A FHIR Bundle of DiagnosticReports, each holding GOOD_REPORT, with the given resource ids."""
    reports = [F.diagnostic_report(rid, presentedForm=[F.attachment("text/plain", GOOD_REPORT)]) for rid in ids]
    return F.json_bytes(F.bundle(*reports))


@pytest.mark.parametrize(
    ("ids", "rules"),
    [
        (("C01",), [RULES_PASSED]),
        (("C00", "C01", "C02"), [RULES_PASSED]),
        (("C00", "C02"), ["PB022-report-unreadable"]),
    ],
)
def test_a_linked_file_holding_several_reports_must_identify_the_claims_one(
    checker: Checker, tmp_path: Path, ids: tuple[str, ...], rules: list[str]
) -> None:
    (tmp_path / "bundle.json").write_bytes(fhir_bundle(*ids))
    result = prebill(claim(report={"path": str(tmp_path / "bundle.json")}), checker=checker)
    assert rule_ids(result) == rules


def test_a_claim_id_cannot_reach_outside_the_reports_folder(checker: Checker, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text(GOOD_REPORT)
    inner = tmp_path / "reports"
    inner.mkdir()
    result = prebill(claim(claim_id="../secret"), checker=checker, reports_dir=inner)
    assert rule_ids(result) == ["PB020-report-missing"]


def test_the_decision_json_carries_the_contract_fields(checker: Checker) -> None:
    payload = json.loads(prebill(claim(report={"text": GOOD_REPORT}), checker=checker).model_dump_json())
    assert set(payload) == {"claim_id", "decision", "reasons", "check", "versions"}
    assert {"rule_id", "message"} <= set(payload["reasons"][0])
    assert payload["check"]["verdict"] == "pass" and payload["check"]["signer"]["name"] == "Harold Smith"
    assert payload["versions"]["prebill_rules"] == load_prebill_rules().version
    assert payload["versions"]["checker_patterns"] == payload["check"]["patterns_version"]


def test_an_unreadable_837_claim_is_an_error_decision_whose_reason_holds_it() -> None:
    result = invalid_claim_decision("X1", "service line 1: SV104 units '1.5' is not a whole number", lines=[1])
    assert (result.decision, rule_ids(result)) == ("error", [CLAIM_INVALID])
    assert (result.reasons[0].outcome, result.reasons[0].lines) == ("hold", [1])


# --------------------------------------------------------------------------------------------
# Who may report, and whose name is whose
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credential", "verdict"),
    [
        ("MD", "qualified"),
        ("m.d.", "qualified"),
        ("DO", "qualified"),
        ("MBBS", "qualified"),
        ("FNP-BC", "qualified"),
        ("APRN", "qualified"),
        ("PA-C", "qualified"),
        ("MD, RT", "qualified"),
        ("RT", "unqualified"),
        ("R.T.(R)(BD)", "unqualified"),
        ("RT(R)(BD), CBDT", "unqualified"),
        ("CDT", "unqualified"),
        ("Scribe", "unqualified"),
        ("transcriptionist", "unqualified"),
        ("LPN", "unqualified"),
        ("PhD", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_credentials_are_judged_by_the_rule_data(credential: str | None, verdict: str) -> None:
    assert classify_credential(credential, load_prebill_rules()) == verdict


@pytest.mark.parametrize(
    ("taxonomy", "verdict"),
    [
        ("2085R0202X", "qualified"),  # diagnostic radiology
        ("207RE0101X", "qualified"),  # endocrinology
        ("363LF0000X", "qualified"),  # family nurse practitioner
        ("363A00000X", "qualified"),  # physician assistant
        ("2471B0102X", "unqualified"),  # bone densitometry technologist
        ("246QM0706X", "unqualified"),  # technologist
        ("163W00000X", "unqualified"),  # registered nurse
        ("261QR0200X", "unknown"),  # radiology clinic
        (None, "unknown"),
    ],
)
def test_nucc_taxonomy_codes_are_judged_by_prefix(taxonomy: str | None, verdict: str) -> None:
    assert classify_taxonomy(taxonomy, load_prebill_rules()) == verdict


@pytest.mark.parametrize(
    ("written", "tokens"),
    [
        ("Harold Smith, MD", ("harold", "smith")),
        ("Smith, Harold J., M.D.", ("harold", "j", "smith")),
        ("Dr. Harold J Smith MD PhD", ("harold", "j", "smith")),
        ("Linh Do MD", ("linh", "do")),
        ("Do, Linh", ("linh", "do")),
        ("Émile Zola, DO", ("emile", "zola")),
        ("O'Brien, Pat, PA-C", ("pat", "obrien")),
    ],
)
def test_names_reduce_to_comparable_tokens(written: str, tokens: tuple[str, ...]) -> None:
    assert name_tokens(written) == tokens


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Harold Smith", "HAROLD SMITH", True),
        ("Harold Smith, MD", "Smith, Harold J., M.D.", True),
        ("Harold Smith", "Smith, H.", True),
        ("Smith Harold J", "Harold Smith", True),
        ("Ulrike Brennan-Sato", "Ulrike Brennan Sato", True),
        ("Harold Smith", "Hal Smith", False),
        ("Harold Smith", "Harold Jones", False),
        ("Dr. Smith", "Harold Smith", False),
        ("J. Smith", "Harold Smith", False),
    ],
)
def test_signer_and_provider_names_match_despite_formatting(a: str, b: str, same: bool) -> None:
    assert same_person(a, b) is same


# --------------------------------------------------------------------------------------------
# The command and its exit codes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim_file", "code", "decision"),
    [
        ("out_of_scope.json", 0, "release"),
        ("release_report_path.json", 0, "release"),
        ("hold_no_report.json", 1, "hold"),
        ("review_signer.json", 1, "review"),
    ],
)
def test_the_command_exits_0_on_release_and_1_on_hold_or_review(
    claim_file: str, code: int, decision: str
) -> None:
    result = CliRunner().invoke(cli, ["prebill", str(CLAIMS / claim_file)])
    assert result.exit_code == code, result.output
    assert json.loads(result.stdout)["decision"] == decision


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["prebill", str(CLAIMS / "not_json.json")], "valid JSON (line 2"),
        (["prebill", str(CLAIMS / "no_such_claim.json")], "cannot read"),
        (["prebill", str(CLAIMS / "out_of_scope.json"), "--reports", str(CLAIMS / "nope")], "--reports"),
    ],
)
def test_the_command_exits_2_on_bad_input(args: list[str], complaint: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert complaint in result.stderr


def test_an_invalid_claim_still_gets_an_error_decision_on_stdout_and_exits_2() -> None:
    result = CliRunner().invoke(cli, ["prebill", str(CLAIMS / "invalid_units.json")])
    assert result.exit_code == 2
    decision = json.loads(result.stdout)
    assert (decision["claim_id"], decision["decision"]) == ("C-BAD", "error")
    (reason,) = decision["reasons"]
    assert (reason["rule_id"], reason["outcome"], reason["lines"]) == (CLAIM_INVALID, "hold", [1])
    assert "lines.1.units: Input should be a valid integer" in reason["message"]
    assert "lines.1.units" in result.stderr


def test_the_command_reads_a_claim_from_stdin() -> None:
    result = CliRunner().invoke(cli, ["prebill", "-"], input=(CLAIMS / "out_of_scope.json").read_text())
    assert result.exit_code == 0
    assert json.loads(result.stdout)["claim_id"] == "C-OOS"


def test_the_command_looks_reports_up_by_claim_id(tmp_path: Path) -> None:
    (tmp_path / "C-NOREPORT.txt").write_text(GOOD_REPORT)
    result = CliRunner().invoke(cli, ["prebill", str(CLAIMS / "hold_no_report.json"), "--reports", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_serve_refuses_to_start_without_an_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TBS_DOCCHECK_API_KEY", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "TBS_DOCCHECK_API_KEY is not set" in result.stderr
