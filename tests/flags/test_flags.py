"""Clinical consistency flags: each rule fires on the contradiction it names and on nothing else; never a verdict."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from paths import DEV_SET, EXTRA_SET, ROOT

from tbs_doccheck import Checker
from tbs_doccheck import flags as flags_pkg
from tbs_doccheck.flags import all_flags, describe, flags_for, read_flag_rules
from tbs_doccheck.flags import checks as flag_checks
from tbs_doccheck.flags.rules import FlagRules
from tbs_doccheck.models import CheckResult
from tbs_doccheck.render.tabular import render_text_one
from tbs_doccheck.resources import PatternError

IDS = ("QC-TBS-CATEGORY-MISMATCH", "QC-BMI-OUT-OF-RANGE", "QC-FRAX-AGE-RANGE", "QC-FRAX-TBS-DIRECTION", "QC-DATE-ORDER")

#: A consistent report; each case below changes a line or two of it.
BASE = {
    "head": "DXA BONE DENSITY WITH TRABECULAR BONE SCORE",
    "patient": "Patient: Doe, Jane   DOB 03/14/1955   Exam date: 03/05/2025",
    "device": "Hologic Horizon A; TBS iNsight 3.1",
    "bmd": "L1-L4 BMD 0.866 g/cm2, T-score -1.8. BMI 24.2.",
    "tbs": "TBS L1-L4: 1.254, partially degraded microarchitecture.",
    "frax": "FRAX MOF 16.1%, hip 3.0%; TBS-adjusted MOF 18.0%, hip 3.6%.",
    "impression": "Impression: osteopenia; the fracture risk is high.",
    "recs": "Recommendations: calcium and vitamin D; repeat DXA in 2 years.",
    "sign": "Electronically signed by John Roe, MD 03/06/2025 10:10",
}


def report(**changes: str) -> str:
    """The base report with some lines replaced (an empty string drops the line)."""
    lines = {**BASE, **changes}
    return "\n".join(v for v in lines.values() if v) + "\n"


def ids(checker: Checker, text: str, rules: FlagRules | None = None) -> list[str]:
    result = checker.check_text(text, "r")
    if rules is None:
        return [f.id for f in result.flags]
    return [f.id for f in flags_for(result.model_copy(update={"flags": []}), text, rules)]


@pytest.fixture(scope="module")
def bmi_confirmed() -> FlagRules:
    """The shipped rules with the BMI range marked confirmed, as a department would after checking its labelling."""
    data = json.loads((ROOT / "patterns" / "flags.json").read_text(encoding="utf-8"))
    for rule in data["rules"]:
        if rule["id"] == "QC-BMI-OUT-OF-RANGE":
            rule["source_status"] = "confirmed"
    return FlagRules.model_validate(data)


def test_the_base_report_passes_without_flags(checker: Checker) -> None:
    result = checker.check_text(report(), "r")
    assert result.verdict == "pass" and result.tbs_value == 1.254
    assert result.flags == []


# --------------------------------------------------------------------------- QC-TBS-CATEGORY-MISMATCH

CATEGORY_FIRES = {
    "degraded value called normal": {"tbs": "TBS L1-L4: 1.180, normal microarchitecture."},
    "normal value called degraded": {"tbs": "TBS L1-L4: 1.372 (degraded)."},
    "impression contradicts the value": {"impression": "Impression: osteopenia; normal microarchitecture; high risk."},
    "contradicts the report's own cut-points": {
        "device": "TBS reference: normal >= 1.350, partially degraded 1.200-1.350, degraded <= 1.200.",
        "tbs": "TBS L1-L4: 1.330, normal microarchitecture.",
    },
}
CATEGORY_SILENT = {
    "older scheme allows it": {"tbs": "TBS L1-L4: 1.214, partially degraded microarchitecture."},
    "value on the cut-point": {"tbs": "TBS L1-L4: 1.310, normal microarchitecture."},
    "value on the degraded cut-point": {"tbs": "TBS L1-L4: 1.230, degraded microarchitecture."},
    "two decimals on the cut-point": {"tbs": "TBS L1-L4: 1.31, normal microarchitecture."},
    "a prior value's category": {"tbs": "TBS L1-L4: 1.180 (degraded); prior TBS 1.352 (normal) in 2022."},
    "borderline": {"tbs": "TBS L1-L4: 1.309 (partially degraded/normal border)."},
    "only a list of cut-points": {
        "device": "TBS reference: normal > 1.310; partially degraded 1.230-1.310; degraded <= 1.230.",
    },
    "a generic sentence": {
        "tbs": "TBS L1-L4: 1.180, degraded microarchitecture.",
        "impression": "Impression: a normal TBS indicates well-structured bone; high fracture risk.",
    },
    "near-normal BMD beside a degraded TBS": {
        "tbs": "TBS L1-L4: 1.180, degraded microarchitecture despite near-normal spine BMD.",
    },
}


@pytest.mark.parametrize("changes", CATEGORY_FIRES.values(), ids=CATEGORY_FIRES.keys())
def test_a_category_that_contradicts_the_value_is_flagged(checker: Checker, changes: dict[str, str]) -> None:
    result = checker.check_text(report(**changes), "r")
    flag = next(f for f in result.flags if f.id == "QC-TBS-CATEGORY-MISMATCH")
    assert flag.severity == "warning"
    assert {e.rule_id for e in flag.evidence} == {"QC-TBS-CATEGORY-MISMATCH"}
    text = report(**changes)
    assert all(text[e.start : e.end] == e.text for e in flag.evidence)


def test_the_report_s_own_cut_points_are_named_when_they_decide(checker: Checker) -> None:
    result = checker.check_text(report(**CATEGORY_FIRES["contradicts the report's own cut-points"]), "r")
    assert "own cut-points" in result.flags[0].message


@pytest.mark.parametrize("changes", CATEGORY_SILENT.values(), ids=CATEGORY_SILENT.keys())
def test_a_category_that_fits_some_scheme_is_not_flagged(checker: Checker, changes: dict[str, str]) -> None:
    assert "QC-TBS-CATEGORY-MISMATCH" not in ids(checker, report(**changes))


# --------------------------------------------------------------------------- QC-BMI-OUT-OF-RANGE


@pytest.mark.parametrize("bmd", ["BMI 39.2.", "BMI: 14.1 kg/m2.", "Height 157 cm, weight 101 kg, BMI 41.0 kg/m2."])
def test_a_tbs_for_a_bmi_outside_the_range_without_a_caveat_is_flagged(
    checker: Checker, bmi_confirmed: FlagRules, bmd: str
) -> None:
    assert "QC-BMI-OUT-OF-RANGE" in ids(checker, report(bmd=bmd), bmi_confirmed)


@pytest.mark.parametrize(
    "changes",
    [
        {"bmd": "BMI 39.2 - above the 15-37 kg/m2 range validated for TBS; interpret with caution."},
        {"bmd": "BMI 38.5; TBS may be less reliable at this body size."},
        {"bmd": "BMI 24.2."},
        {"bmd": "BMI 36.9."},
        {"bmd": "BMI 41.0.", "tbs": "TBS not performed.", "frax": ""},
        {"bmd": "BMI range validated for TBS: 15-37."},
    ],
    ids=["caveat", "reliability caveat", "in range", "at the edge", "no TBS value", "a range, not a BMI"],
)
def test_a_bmi_in_range_or_with_a_caveat_is_not_flagged(
    checker: Checker, bmi_confirmed: FlagRules, changes: dict[str, str]
) -> None:
    assert "QC-BMI-OUT-OF-RANGE" not in ids(checker, report(**changes), bmi_confirmed)


def test_the_shipped_bmi_rule_never_fires_while_its_source_is_unconfirmed(checker: Checker) -> None:
    rules = read_flag_rules()
    assert not rules.rule("QC-BMI-OUT-OF-RANGE").active
    assert "QC-BMI-OUT-OF-RANGE" not in ids(checker, report(bmd="BMI 44.0."))
    assert "never fires" in (describe("QC-BMI-OUT-OF-RANGE") or "")


# --------------------------------------------------------------------------- QC-FRAX-AGE-RANGE


@pytest.mark.parametrize(
    "changes",
    [
        {"patient": "Patient: Doe, Jane   DOB 03/14/1990   Exam date: 03/05/2025"},
        {"patient": "Patient: Doe, Jane   Exam date: 03/05/2025",
         "device": "History: 36-year-old woman on prednisone."},
        {"patient": "Patient: Doe, Jane   DOB 01/02/1931   Exam date: 03/05/2025"},
    ],
    ids=["34 from the birth date", "36 stated", "94 from the birth date"],
)
def test_a_frax_for_an_age_frax_does_not_take_is_flagged(checker: Checker, changes: dict[str, str]) -> None:
    result = checker.check_text(report(**changes), "r")
    flag = next(f for f in result.flags if f.id == "QC-FRAX-AGE-RANGE")
    assert "40-90" in flag.message


@pytest.mark.parametrize(
    "changes",
    [
        {"patient": "Patient: Doe, Jane   DOB 03/14/1990   Exam date: 03/05/2025",
         "frax": "FRAX not calculated (age 34; FRAX is validated for ages 40-90)."},
        {"patient": "Patient: Doe, Jane   DOB 03/05/1985   Exam date: 03/05/2025"},
        {"patient": "Patient: Doe, Jane   DOB 03/05/1935   Exam date: 03/05/2025"},
        {"device": "Mother had a hip fracture at age 35."},
        {"patient": "Patient: Doe, Jane   Exam date: 03/05/2025", "device": "36 yo F; also recorded as 64 yo."},
        {"patient": "Patient: Doe, Jane   DOB 03/14/1990   Exam date: 03/05/2025",
         "frax": "Treatment threshold: MOF 20%, hip 3%."},
    ],
    ids=["not calculated", "exactly 40", "exactly 90", "a relative's age", "conflicting ages", "thresholds only"],
)
def test_an_age_in_range_or_no_frax_number_is_not_flagged(checker: Checker, changes: dict[str, str]) -> None:
    assert "QC-FRAX-AGE-RANGE" not in ids(checker, report(**changes))


# --------------------------------------------------------------------------- QC-FRAX-TBS-DIRECTION


@pytest.mark.parametrize(
    "changes",
    [
        {"tbs": "TBS L1-L4: 1.180, degraded microarchitecture.",
         "frax": "FRAX MOF 16.1%, hip 3.0%; TBS-adjusted MOF 14.0%, hip 2.6%."},
        {"tbs": "TBS L1-L4: 1.400, normal microarchitecture.",
         "frax": "FRAX (FN BMD): MOF 9.0%, hip 1.0%\nFRAX adjusted for TBS: MOF 9.9%, hip 1.3%"},
        {"tbs": "TBS L1-L4: 1.380, normal microarchitecture.", "frax": "FRAX 10-yr MOF 6.4% (TBS-adjusted 7.9%)."},
    ],
    ids=["degraded TBS, adjusted down", "normal TBS, adjusted up", "adjusted value in brackets"],
)
def test_an_adjustment_against_the_tbs_is_flagged(checker: Checker, changes: dict[str, str]) -> None:
    result = checker.check_text(report(**changes), "r")
    flag = next(f for f in result.flags if f.id == "QC-FRAX-TBS-DIRECTION")
    assert len(flag.evidence) == 3  # the two probabilities and the TBS value


@pytest.mark.parametrize(
    "changes",
    [
        {"frax": "FRAX MOF 16.1%, hip 3.0%; TBS-adjusted MOF 15.0%, hip 2.8%."},
        {"tbs": "TBS L1-L4: 1.180, degraded microarchitecture."},
        {"patient": "Patient: Doe, Jane   DOB 01/01/1939   Exam date: 03/05/2025",
         "tbs": "TBS L1-L4: 1.180, degraded microarchitecture.",
         "frax": "FRAX MOF 16.1%, hip 3.0%; TBS-adjusted MOF 14.0%, hip 2.6%."},
        {"tbs": "TBS L1-L4: 1.180, degraded microarchitecture.", "frax": "TBS-adjusted FRAX: MOF 14.0%, hip 2.6%."},
        {"tbs": "TBS L1-L4: 1.180, degraded microarchitecture.",
         "frax": "FRAX: MOF 16.1%, hip 3.0%. Adjusted for glucocorticoid dose: MOF 18.5%, hip 3.6%. "
                 "Further TBS adjustment: MOF 17.0%, hip 3.2%."},
        {"tbs": "TBS L1-L4: 1.180, degraded microarchitecture.",
         "frax": "FRAX MOF 16.1% -> 14.0% after TBS adjustment; hip 3.0% -> 3.4%."},
    ],
    ids=["TBS between the zones", "degraded TBS, adjusted up", "older than 80", "adjusted only",
         "another adjustment between", "arrows, both ways"],
)
def test_an_adjustment_that_may_be_right_is_not_flagged(checker: Checker, changes: dict[str, str]) -> None:
    found = ids(checker, report(**changes))
    if changes.get("frax", "").startswith("FRAX MOF 16.1% ->"):
        assert found.count("QC-FRAX-TBS-DIRECTION") == 1  # MOF went down: flagged; hip went up: fine
    else:
        assert "QC-FRAX-TBS-DIRECTION" not in found


# --------------------------------------------------------------------------- QC-DATE-ORDER


@pytest.mark.parametrize(
    "changes",
    [
        {"sign": "Electronically signed by John Roe, MD 03/01/2025 10:10"},
        {"patient": "Patient: Doe, Jane   DOB 1955-03-14   Exam date: 2025-03-05",
         "recs": "Recommendations: calcium and vitamin D.\nReport date: 2025-02-20",
         "sign": "Electronically signed by John Roe, MD"},
        {"sign": "Electronically signed by John Roe, MD 02/06/2025"},  # DOB 03/14/1955 makes the dates month-first
    ],
    ids=["signature before exam", "report date before exam", "order fixed by the birth date's reading"],
)
def test_a_report_dated_before_its_exam_is_flagged(checker: Checker, changes: dict[str, str]) -> None:
    result = checker.check_text(report(**changes), "r")
    flag = next(f for f in result.flags if f.id == "QC-DATE-ORDER")
    assert any(e.reason == "the exam date" for e in flag.evidence)


@pytest.mark.parametrize(
    "changes",
    [
        {"sign": "Electronically signed by John Roe, MD 03/05/2025 17:00"},
        {"sign": "Electronically signed by John Roe, MD 03/25/2025"},
        {"patient": "Patient: Doe, Jane   DOB 03/04/1955   Exam date: 03/05/2025",
         "sign": "Electronically signed by John Roe, MD 02/06/2025"},
        {"patient": "Patient: Doe, Jane   DOB 03/14/1955   Date: 03/05/2025",
         "sign": "Electronically signed by John Roe, MD 03/01/2025"},
        {"recs": "Recommendations: calcium and vitamin D. Next exam date: 03/05/2027.",
         "sign": "Electronically signed by John Roe, MD 03/06/2025"},
    ],
    ids=["same day", "after", "either reading possible", "no labelled exam date", "a future exam"],
)
def test_a_report_dated_on_or_after_its_exam_is_not_flagged(checker: Checker, changes: dict[str, str]) -> None:
    assert "QC-DATE-ORDER" not in ids(checker, report(**changes))


# --------------------------------------------------------------------------- never a verdict, never on dev


def test_flags_never_change_the_verdict_or_anything_else(checker: Checker, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [report(**c) for c in (*CATEGORY_FIRES.values(), {"sign": "Signed by John Roe, MD 03/01/2025"})]
    flagged = [checker.check_text(t, "r") for t in texts]
    monkeypatch.setattr(flags_pkg, "flags_for", lambda result, text, rules=None: [])
    plain = [checker.check_text(t, "r") for t in texts]
    assert all(f.flags for f in flagged)
    assert [f.model_dump(exclude={"flags"}) for f in flagged] == [p.model_dump(exclude={"flags"}) for p in plain]


def _labelled(path: Path) -> list[dict]:
    if not path.is_file():
        pytest.skip(f"labelled set not found at {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path", [DEV_SET, EXTRA_SET], ids=["dev", "extra"])
def test_no_flag_fires_on_the_labelled_sets_whose_texts_are_consistent(checker: Checker, path: Path) -> None:
    # Every report in dev.jsonl and extra.jsonl was read: none contradicts itself (see README, Consistency flags).
    fired = {row["id"]: [f.id for f in checker.check_text(row["text"], row["id"]).flags] for row in _labelled(path)}
    assert {k: v for k, v in fired.items() if v} == {}


def test_an_unreadable_report_has_no_flags(checker: Checker) -> None:
    from tbs_doccheck.models import ReadError, ReportInput

    bad = ReportInput(id="x", error=ReadError(code="E003-empty", message="x: empty"))
    assert checker.check_input(bad).flags == []


# --------------------------------------------------------------------------- the rule file


def test_every_flag_id_has_its_rule_wording_and_source() -> None:
    rules = all_flags()
    assert tuple(r.id for r in rules) == IDS
    for rule in rules:
        assert rule.literal and rule.description and rule.source
        text = describe(rule.id)
        assert text is not None and rule.id in text and rule.source in text
    assert describe("QC-NOT-A-FLAG") is None


def _rules_data() -> dict:
    return json.loads((ROOT / "patterns" / "flags.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "breakage",
    ["extra key", "missing rule", "unknown message field", "bad status", "crossed cut-points"],
)
def test_the_rule_file_is_read_strictly(tmp_path: Path, breakage: str) -> None:
    data = _rules_data()
    if breakage == "extra key":
        data["rules"][0]["threshold"] = 1.3
    elif breakage == "missing rule":
        data["rules"].pop()
    elif breakage == "unknown message field":
        data["rules"][4]["message"] = "dated {when}"
    elif breakage == "bad status":
        data["rules"][2]["source_status"] = "probably"
    else:
        data["tbs_category_schemes"][0]["degraded_at_or_below"] = 1.4
    (tmp_path / "flags.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PatternError, match="P001"):
        read_flag_rules(tmp_path)


def test_a_department_can_reword_a_message_and_move_a_threshold(checker: Checker, tmp_path: Path) -> None:
    data = _rules_data()
    for rule in data["rules"]:
        if rule["id"] == "QC-FRAX-AGE-RANGE":
            rule["message"] = "FRAX quoted at age {age}."
            rule["age_min"] = 50
    (tmp_path / "flags.json").write_text(json.dumps(data), encoding="utf-8")
    rules = read_flag_rules(tmp_path)
    text = report(patient="Patient: Doe, Jane   DOB 03/14/1980   Exam date: 03/05/2025")
    flags = flags_for(checker.check_text(text, "r"), text, rules)
    assert [f.message for f in flags] == ["FRAX quoted at age 44."]


def test_a_rule_that_breaks_is_logged_and_skipped(
    checker: Checker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise ZeroDivisionError("report words here")

    monkeypatch.setitem(flag_checks._CHECKS, "QC-TBS-CATEGORY-MISMATCH", broken)
    text = report(tbs="TBS L1-L4: 1.180, normal microarchitecture.", sign="Signed by John Roe, MD 03/01/2025")
    with caplog.at_level(logging.ERROR):
        result = checker.check_text(text, "r")
    assert [f.id for f in result.flags] == ["QC-DATE-ORDER"]
    assert "ZeroDivisionError" in caplog.text and "report words here" not in caplog.text


# --------------------------------------------------------------------------- output


def test_the_text_output_shows_one_line_per_flag_and_json_carries_them(checker: Checker) -> None:
    text = report(tbs="TBS L1-L4: 1.180, normal microarchitecture.", sign="Signed by John Roe, MD 03/01/2025")
    result = checker.check_text(text, "r")
    lines = [line for line in render_text_one(result).splitlines() if line.strip().startswith("flag")]
    assert len(lines) == len(result.flags) == 2
    dumped = json.loads(result.model_dump_json())
    assert [f["id"] for f in dumped["flags"]] == ["QC-TBS-CATEGORY-MISMATCH", "QC-DATE-ORDER"]
    assert CheckResult.model_validate(dumped) == result


@pytest.mark.parametrize(
    "unit",
    ["TBS 1.2 normal ", "BMI 99 ", "MOF 10% hip 2% ", "01/02/2025 ", "age 30 ", "degraded/normal ", "(TBS 5%) ",
     "normal >= 1.310 ", "1.230-1.310 ", "FRAX adjusted ", "a" * 40 + " ", "- " * 20, "\n"],
)
def test_the_flag_regexes_stay_fast_on_long_repetitive_text(checker: Checker, unit: str) -> None:
    text = report() + unit * (20_000 // len(unit))
    result = checker.check_text(report(), "r")
    started = time.perf_counter()
    flags_for(result, text)
    assert time.perf_counter() - started < 2.0
