"""The claim edits of issue 17 (modifiers, future dates, 77090 with 77091, the same-day DXA, payer coverage),
each firing and not firing, through the Python API and the command line (JSON claims and 837 files)."""

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
from tbs_doccheck.prebill.engine import RULES_PASSED, prebill, prebill_many
from tbs_doccheck.prebill.x12 import parse_837p

DATA = Path(__file__).resolve().parent.parent / "data"
GOOD_REPORT = (DATA / "claims" / "reports" / "C-RELEASE.txt").read_text()
SMITH = {"name": "Harold Smith", "credential": "MD", "npi": "1245319599"}
TODAY = date(2025, 6, 30)

#: The packaged coverage table's sample entry (it matches no real payer).
NOT_COVERING = {"id": "SAMPLE-TBS-NONCOVERED", "name": "Sample TBS Non-Covering Plan"}
POLICY = "SAMPLE ENTRY - replace with your payers' TBS policies"

MODIFIER, FUTURE, EXCLUSIVE, NO_DXA, PAYER = (
    "PB013-modifier-invalid",
    "PB014-dos-in-future",
    "PB015-77090-with-77091",
    "PB016-calculation-without-dxa",
    "PB050-payer-not-covered",
)


def line(code: str, *modifiers: str, units: int = 1, **extra: Any) -> dict[str, Any]:
    return {"code": code, "units": units, "modifiers": list(modifiers), **extra}


DXA = line("77080")


def claim(*lines: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "claim_id": "C17",
        "patient_id": "P1",
        "date_of_service": "2025-03-10",
        "lines": list(lines),
        "rendering_provider": dict(SMITH),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def rule_ids(decision: Decision) -> list[str]:
    for reason in decision.reasons:
        assert registry.get(reason.rule_id).outcome == reason.outcome, reason.rule_id
    return [r.rule_id for r in decision.reasons]


def with_rules(**change: Any) -> PrebillRules:
    return PrebillRules.model_validate(load_prebill_rules().model_dump() | change)


# --------------------------------------------------------------------------------------------
# Each rule fires, and does not fire, through the Python API (no report needed: 77090/77091)
# --------------------------------------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], str, list[str]]] = [
    # PB013: 26/TC only split the global code
    ("TC on technical-only 77091 is held", claim(DXA, line("77091", "TC")), "hold", [MODIFIER]),
    ("26 on technical-only 77090 is held", claim(line("77090", "26")), "hold", [MODIFIER]),
    ("a lower-case tc is the same modifier", claim(DXA, line("77091", "tc")), "hold", [MODIFIER]),
    ("TC with other modifiers is still held", claim(DXA, line("77091", "GA", "TC")), "hold", [MODIFIER]),
    ("other modifiers on 77091 are fine", claim(DXA, line("77091", "GA", "59")), "release", [RULES_PASSED]),
    ("26 on a DXA line is not the TBS rules' business", claim(line("77080", "26"), line("77091")), "release",
     [RULES_PASSED]),
    # PB014: dates after today
    ("a date of service after today is held", claim(DXA, line("77091"), date_of_service="2025-07-01"), "hold",
     [FUTURE]),
    ("today itself is fine", claim(DXA, line("77091"), date_of_service="2025-06-30"), "release", [RULES_PASSED]),
    ("a line dated after today is held by itself",
     claim(DXA, line("77091"), line("77090", date_of_service="2025-08-01")), "hold", [FUTURE]),
    # PB015: 77090 with 77091 for one patient and date
    ("77090 and 77091 on one date go to review", claim(DXA, line("77090"), line("77091")), "review", [EXCLUSIVE]),
    ("77090 and 77091 on different dates are fine",
     claim(DXA, line("77091"), line("77090", date_of_service="2025-03-11")), "release", [RULES_PASSED]),
    # PB016: a TBS calculation needs the same-day DXA
    ("a lone 77091 goes to review", claim(line("77091")), "review", [NO_DXA]),
    ("77091 with 77081 is fine", claim(line("77081"), line("77091")), "release", [RULES_PASSED]),
    ("77091 with 77085 is fine", claim(line("77085"), line("77091")), "release", [RULES_PASSED]),
    ("77091 with 77086 is fine", claim(line("77086"), line("77091")), "release", [RULES_PASSED]),
    ("a DXA on another date does not count",
     claim(line("77080", date_of_service="2025-03-09"), line("77091")), "review", [NO_DXA]),
    ("77090 alone needs no DXA here (the calculation is elsewhere)", claim(line("77090")), "release", [RULES_PASSED]),
    # PB050: payer coverage
    ("a TBS line for a non-covering payer is held", claim(DXA, line("77091"), payer=NOT_COVERING), "hold", [PAYER]),
    ("the payer is found by id alone", claim(DXA, line("77091"), payer={"id": "sample-tbs-noncovered"}), "hold",
     [PAYER]),
    ("the payer is found by name, whatever the case and punctuation",
     claim(DXA, line("77091"), payer={"name": "SAMPLE TBS NON-COVERING PLAN."}), "hold", [PAYER]),
    ("GA acknowledges it", claim(DXA, line("77091", "GA"), payer=NOT_COVERING), "release", [RULES_PASSED]),
    ("GZ acknowledges it", claim(DXA, line("77091", "gz"), payer=NOT_COVERING), "release", [RULES_PASSED]),
    ("a payer the table does not list is not held",
     claim(DXA, line("77091"), payer={"id": "PAYER01", "name": "EXAMPLE HEALTH PLAN"}), "release", [RULES_PASSED]),
    ("an unlisted id still matches by a listed name",
     claim(DXA, line("77091"), payer={"id": "SP123", "name": "Sample TBS Non-Covering Plan"}), "hold", [PAYER]),
    ("a claim with no TBS line is out of scope whatever the payer", claim(DXA, payer=NOT_COVERING), "release",
     ["PB001-out-of-scope"]),
]


@pytest.mark.parametrize(("story", "the_claim", "decision", "ids"), CASES, ids=[c[0] for c in CASES])
def test_each_claim_edit_fires_and_does_not_fire(
    story: str, the_claim: dict[str, Any], decision: str, ids: list[str]
) -> None:
    result = prebill(the_claim, today=TODAY)
    assert (result.decision, rule_ids(result)) == (decision, ids), story


def test_reasons_name_the_lines_and_what_to_do() -> None:
    result = prebill(claim(DXA, line("77091", "TC"), line("77090", "26", date_of_service="2025-03-11")), today=TODAY)
    (reason,) = result.reasons
    assert reason.lines == [2, 3]
    assert "line 2 77091-TC (77091 is technical-only)" in reason.message
    assert "line 3 77090-26" in reason.message and "Remove the modifier" in reason.message

    (reason,) = prebill(claim(DXA, line("77091"), date_of_service="2025-07-04"), today=TODAY).reasons
    assert "after today (2025-06-30): line 2 77091 on 2025-07-04" in reason.message

    (reason,) = prebill(claim(line("77091")), today=TODAY).reasons
    assert "77080, 77081, 77085, 77086" in reason.message and "line 1 77091 on 2025-03-10" in reason.message

    (reason,) = prebill(claim(DXA, line("77090"), line("77091")), today=TODAY).reasons
    assert reason.lines == [2, 3] and "77090 and 77091 are both billed for this patient on 2025-03-10" in reason.message


def test_the_payer_reason_names_the_payer_and_the_policy_entry() -> None:
    (reason,) = prebill(claim(DXA, line("77091"), payer=NOT_COVERING), today=TODAY).reasons
    assert reason.lines == [2]
    assert f'"{POLICY}"' in reason.message
    assert "Sample TBS Non-Covering Plan (SAMPLE-TBS-NONCOVERED) treats TBS as investigational" in reason.message
    assert "(GA, GZ, GX)" in reason.message


def test_the_future_date_is_judged_against_the_local_date_by_default() -> None:
    tomorrow = date.today().toordinal() + 1
    result = prebill(claim(DXA, line("77091"), date_of_service=date.fromordinal(tomorrow).isoformat()))
    assert rule_ids(result) == [FUTURE]
    assert rule_ids(prebill(claim(DXA, line("77091"), date_of_service=date.today().isoformat()))) == [RULES_PASSED]


def test_77089_split_by_26_or_tc_is_valid_but_still_bundled_with_77092() -> None:
    assert MODIFIER not in rule_ids(prebill(claim(DXA, line("77089", "26")), today=TODAY))
    assert MODIFIER not in rule_ids(prebill(claim(DXA, line("77089", "TC")), today=TODAY))
    result = prebill(claim(DXA, line("77089", "26"), line("77092")), today=TODAY)
    assert rule_ids(result)[0] == "PB010-77089-bundled" and MODIFIER not in rule_ids(result)


def test_26_on_professional_only_77092_is_held_even_with_a_good_report(checker: Checker) -> None:
    result = prebill(claim(line("77092", "26"), report={"text": GOOD_REPORT}), checker=checker, today=TODAY)
    assert (result.decision, rule_ids(result)) == ("hold", [MODIFIER])
    assert "77092 is professional-only" in result.reasons[0].message
    assert rule_ids(prebill(claim(line("77092"), report={"text": GOOD_REPORT}), checker=checker, today=TODAY)) == [
        RULES_PASSED
    ]


def test_a_non_covering_payer_holds_77092_too_and_the_modifier_releases_it(checker: Checker) -> None:
    held = prebill(claim(line("77092"), report={"text": GOOD_REPORT}, payer=NOT_COVERING), checker=checker)
    assert rule_ids(held) == [PAYER]
    acknowledged = claim(line("77092", "GA"), report={"text": GOOD_REPORT}, payer=NOT_COVERING)
    assert rule_ids(prebill(acknowledged, checker=checker)) == [RULES_PASSED]


# --------------------------------------------------------------------------------------------
# Across one patient's claims (an 837 batch)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("story", "other", "ids"),
    [
        ("the DXA on the patient's other claim that day counts", {}, [[RULES_PASSED], ["PB001-out-of-scope"]]),
        ("another patient's DXA does not", {"patient_id": "P2"}, [[NO_DXA], ["PB001-out-of-scope"]]),
        ("a DXA on another day does not", {"date_of_service": "2025-03-11"}, [[NO_DXA], ["PB001-out-of-scope"]]),
    ],
)
def test_the_same_day_dxa_is_looked_for_across_the_patients_claims(
    story: str, other: dict[str, Any], ids: list[list[str]]
) -> None:
    tbs = Claim.model_validate(claim(line("77091"), claim_id="TBS"))
    dxa = Claim.model_validate(claim(DXA, claim_id="DXA", **other))
    assert [rule_ids(d) for d in prebill_many([tbs, dxa], today=TODAY)] == ids, story


def test_77090_on_one_claim_and_77091_on_anothers_same_date_sends_both_to_review() -> None:
    sent = Claim.model_validate(claim(line("77090"), claim_id="SENT"))
    calculated = Claim.model_validate(claim(DXA, line("77091"), claim_id="CALC"))
    first, second = prebill_many([sent, calculated], today=TODAY)
    assert (first.decision, rule_ids(first)) == ("review", [EXCLUSIVE])
    assert "claim CALC line 2" in first.reasons[0].message
    assert (second.decision, rule_ids(second)) == ("review", [EXCLUSIVE])
    assert second.reasons[0].lines == [2]


def test_a_batch_shares_one_today() -> None:
    a = Claim.model_validate(claim(DXA, line("77091"), claim_id="A", date_of_service="2025-07-01"))
    b = Claim.model_validate(claim(DXA, line("77091"), claim_id="B", patient_id="P2"))
    assert [rule_ids(d) for d in prebill_many([a, b], today=TODAY)] == [[FUTURE], [RULES_PASSED]]


# --------------------------------------------------------------------------------------------
# The rule data and the claim contract
# --------------------------------------------------------------------------------------------


def test_the_packaged_data_names_a_source_for_every_new_table() -> None:
    rules = load_prebill_rules()
    assert rules.pc_tc_status == {
        "77089": "global", "77090": "technical", "77091": "technical", "77092": "professional"
    }
    assert rules.imaging_codes == ["77080", "77081", "77085", "77086"]
    assert rules.mutually_exclusive == [["77090", "77091"]]
    for key in ("pc_tc_status", "component_modifiers", "mutually_exclusive", "imaging_required_codes",
                "imaging_codes", "payer_coverage"):
        assert rules.sources.get(key), key


@pytest.mark.parametrize(
    ("change", "the_claim", "ids"),
    [
        ({"pc_tc_status": {}}, claim(DXA, line("77091", "TC")), [RULES_PASSED]),
        ({"component_modifiers": ["TC"]}, claim(DXA, line("77091", "26")), [RULES_PASSED]),
        ({"mutually_exclusive": []}, claim(DXA, line("77090"), line("77091")), [RULES_PASSED]),
        ({"imaging_required_codes": []}, claim(line("77091")), [RULES_PASSED]),
        ({"imaging_codes": ["77081"]}, claim(DXA, line("77091")), [NO_DXA]),
        ({"payer_coverage": []}, claim(DXA, line("77091"), payer=NOT_COVERING), [RULES_PASSED]),
        (
            {"payer_coverage": [{"policy": "Acme TBS (2024)", "payer_ids": ["ACME"], "coverage": "covered"}]},
            claim(DXA, line("77091"), payer={"id": "ACME"}),
            [RULES_PASSED],
        ),
        (
            {
                "payer_coverage": [
                    {"policy": "Acme", "payer_ids": ["ACME"], "coverage": "not_covered", "codes": ["77092"]}
                ]
            },
            claim(DXA, line("77091"), payer={"id": "ACME"}),
            [RULES_PASSED],
        ),
        (
            {"payer_coverage": [{"policy": "Acme", "payer_ids": ["ACME"], "coverage": "not_covered"}]},
            claim(DXA, line("77091", "GA"), payer={"id": "ACME"}),
            [PAYER],
        ),
    ],
)
def test_the_claim_edits_read_their_data(change: dict[str, Any], the_claim: dict[str, Any], ids: list[str]) -> None:
    assert rule_ids(prebill(the_claim, rules=with_rules(**change), today=TODAY)) == ids


def test_a_payer_entry_without_acknowledging_modifiers_says_not_to_bill() -> None:
    rules = with_rules(payer_coverage=[{"policy": "Acme", "payer_names": ["Acme"], "coverage": "not_covered"}])
    (reason,) = prebill(claim(DXA, line("77091", "GA"), payer={"name": "ACME"}), rules=rules, today=TODAY).reasons
    assert "treats TBS as not covered" in reason.message and "Do not bill this payer for TBS" in reason.message


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"pc_tc_status": {"77080": "global"}}, "not listed in tbs_codes"),
        ({"pc_tc_status": {"77091": "partial"}}, "pc_tc_status"),
        ({"mutually_exclusive": [["77090"]]}, "at least 2"),
        ({"mutually_exclusive": [["77090", "99213"]]}, "not listed in tbs_codes"),
        ({"imaging_required_codes": ["77080"]}, "not listed in tbs_codes"),
        ({"imaging_codes": ["77080", "77091"]}, "not TBS codes"),
        ({"payer_coverage": [{"policy": "x", "coverage": "not_covered"}]}, "names no payer"),
        ({"payer_coverage": [{"policy": "x", "payer_ids": ["A"], "coverage": "maybe"}]}, "coverage"),
        ({"payer_coverage": [{"policy": "x", "payer_ids": ["A"], "coverage": "covered", "codes": ["1"]}]},
         "not listed in tbs_codes"),
        (
            {"payer_coverage": [
                {"policy": "x", "payer_names": ["Acme Plan"], "coverage": "covered"},
                {"policy": "y", "payer_names": ["ACME PLAN"], "coverage": "not_covered"},
            ]},
            "two payer coverage entries",
        ),
    ],
)
def test_bad_claim_edit_data_is_refused(tmp_path: Path, change: dict[str, Any], complaint: str) -> None:
    path = tmp_path / "prebill_rules.json"
    path.write_text(json.dumps(load_prebill_rules().model_dump(mode="json") | change))
    with pytest.raises(ValidationError, match=complaint):
        load_prebill_rules(path)


def test_rule_data_without_the_new_tables_still_loads_and_skips_those_edits(tmp_path: Path) -> None:
    data = load_prebill_rules().model_dump(mode="json")
    for key in ("pc_tc_status", "component_modifiers", "mutually_exclusive", "imaging_required_codes",
                "imaging_codes", "payer_coverage"):
        del data[key]
    path = tmp_path / "prebill_rules.json"
    path.write_text(json.dumps(data))
    old = load_prebill_rules(path)
    assert rule_ids(prebill(claim(line("77091", "TC"), payer=NOT_COVERING), rules=old, today=TODAY)) == [RULES_PASSED]


@pytest.mark.parametrize(
    ("payer", "where"),
    [({}, "payer"), ({"id": ""}, "payer.id"), ({"name": 7}, "payer.name"), ("Acme", "payer")],
)
def test_the_payer_in_the_contract_is_typed_strictly(payer: Any, where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        Claim.model_validate(claim(line("77091"), payer=payer))


# --------------------------------------------------------------------------------------------
# The command line: JSON claims and 837 files, with --today
# --------------------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(cli, ["prebill", *args])
    out = result.stdout.strip()
    decisions = [json.loads(out)] if out.startswith("{\n") else [json.loads(x) for x in out.splitlines() if x]
    return result.exit_code, decisions, result.stderr


def ids_of(decision: dict[str, Any]) -> list[str]:
    return [r["rule_id"] for r in decision["reasons"]]


@pytest.mark.parametrize(
    ("story", "the_claim", "code", "ids"),
    [
        ("modifier", claim(DXA, line("77091", "TC")), 1, [MODIFIER]),
        ("future date", claim(DXA, line("77091"), date_of_service="2025-07-01"), 1, [FUTURE]),
        ("77090 with 77091", claim(DXA, line("77090"), line("77091")), 1, [EXCLUSIVE]),
        ("no DXA", claim(line("77091")), 1, [NO_DXA]),
        ("payer", claim(DXA, line("77091"), payer=NOT_COVERING), 1, [PAYER]),
        ("payer acknowledged", claim(DXA, line("77091", "GX"), payer=NOT_COVERING), 0, [RULES_PASSED]),
        ("clean", claim(DXA, line("77091"), date_of_service="2025-06-30"), 0, [RULES_PASSED]),
    ],
)
def test_the_command_decides_json_claims_with_the_claim_edits(
    tmp_path: Path, story: str, the_claim: dict[str, Any], code: int, ids: list[str]
) -> None:
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(the_claim))
    exit_code, (decision,), _ = run(str(path), "--today", "2025-06-30")
    assert (exit_code, ids_of(decision)) == (code, ids), story


def test_the_command_judges_dates_against_today_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(claim(DXA, line("77091"), date_of_service="2025-07-01")))
    assert run(str(path), "--today", "2025-07-01")[0] == 0
    assert run(str(path))[0] == 0  # the machine's date is later than 2025-07-01
    assert ids_of(run(str(path), "--today", "2025-06-30")[1][0]) == [FUTURE]


@pytest.mark.parametrize("bad", ["2025-13-01", "07/01/2025", "tomorrow"])
def test_the_command_refuses_a_bad_today(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(claim(DXA, line("77091"))))
    result = CliRunner().invoke(cli, ["prebill", str(path), "--today", bad])
    assert (result.exit_code, result.stdout) == (2, "")
    assert "--today" in result.stderr


ISA = "ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *250312*1200*^*00501*000000101*0*T*:~"


def x12(*subscribers: tuple[str, tuple[str, str] | None, list[tuple[str, list[tuple[str, str]]]]]) -> str:
    """An 837P file: per subscriber (member id, payer (name, id) or None, claims (id, lines (SV101, CCYYMMDD)))."""
    body = [
        "ST*837*0001*005010X222A1",
        "BHT*0019*00*TBSBATCH17*20250312*1200*CH",
        "NM1*41*2*NORTHWIND BONE CLINIC*****46*SUB0001",
        "NM1*40*2*EXAMPLE HEALTH PLAN*****46*PAYER01",
        "HL*1**20*1",
        "PRV*BI*PXC*2085R0202X",
        "NM1*85*2*NORTHWIND BONE CLINIC*****XX*1234567893",
    ]
    for n, (member, payer, claims) in enumerate(subscribers, 2):
        body += [f"HL*{n}*1*22*0", "SBR*P*18*GRP100******CI", f"NM1*IL*1*DOE*JO****MI*{member}"]
        if payer is not None:
            body.append(f"NM1*PR*2*{payer[0]}*****PI*{payer[1]}")
        for claim_id, lines in claims:
            body += [f"CLM*{claim_id}*85.00***11:B:1*Y*A*Y*Y", "NM1*82*1*SMITH*HAROLD****XX*1245319599",
                     "PRV*PE*PXC*2085R0202X"]
            for k, (sv101, when) in enumerate(lines, 1):
                body += [f"LX*{k}", f"SV1*{sv101}*85.00*UN*1***1", f"DTP*472*D8*{when}"]
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [ISA, "GS*HC*SUBMITTERID*RECEIVERID*20250312*1200*101*X*005010X222A1", *body,
                "GE*1*101", "IEA*1*000000101"]
    return "~\n".join(s.rstrip("~") for s in segments) + "~\n"


def test_an_837_with_dxa_and_tbs_in_different_claims_of_one_patient(tmp_path: Path) -> None:
    path = tmp_path / "batch.837"
    path.write_text(
        x12(
            ("MEM1", None, [("DXA1", [("HC:77080", "20250310")]), ("TBS1", [("HC:77091", "20250310")])]),
            ("MEM2", None, [("DXA2", [("HC:77080", "20250309")]), ("TBS2", [("HC:77091", "20250310")])]),
            ("MEM3", None, [("DXA3", [("HC:77080", "20250310")])]),
            ("MEM4", None, [("TBS4", [("HC:77091", "20250310")])]),
        )
    )
    code, decisions, _ = run(str(path), "--today", "2025-06-30")
    got = {d["claim_id"]: (d["decision"], ids_of(d)) for d in decisions}
    assert code == 1
    assert got == {
        "DXA1": ("release", ["PB001-out-of-scope"]),
        "TBS1": ("release", [RULES_PASSED]),  # its DXA is on DXA1: same patient, same day
        "DXA2": ("release", ["PB001-out-of-scope"]),
        "TBS2": ("review", [NO_DXA]),  # the DXA was the day before
        "DXA3": ("release", ["PB001-out-of-scope"]),
        "TBS4": ("review", [NO_DXA]),  # another patient's DXA (MEM3) does not count
    }


def test_an_837_decides_each_claim_edit(tmp_path: Path) -> None:
    path = tmp_path / "edits.837"
    path.write_text(
        x12(
            ("MEM1", None, [("MOD", [("HC:77080", "20250310"), ("HC:77091:TC", "20250310")])]),
            ("MEM2", None, [("FUT", [("HC:77080", "20250701"), ("HC:77091", "20250701")])]),
            ("MEM3", None, [("SENT", [("HC:77090", "20250310")]),
                            ("CALC", [("HC:77080", "20250310"), ("HC:77091", "20250310")])]),
            ("MEM4", ("SAMPLE TBS NON-COVERING PLAN", "SAMPLE-TBS-NONCOVERED"),
             [("PAY", [("HC:77080", "20250310"), ("HC:77091", "20250310")]),
              ("ACK", [("HC:77080", "20250311"), ("HC:77091:GA", "20250311")])]),
            ("MEM5", ("EXAMPLE HEALTH PLAN", "PAYER01"),
             [("OK", [("HC:77080", "20250310"), ("HC:77091", "20250310")])]),
        )
    )
    code, decisions, _ = run(str(path), "--today", "2025-06-30")
    assert code == 1
    assert {d["claim_id"]: ids_of(d) for d in decisions} == {
        "MOD": [MODIFIER],
        "FUT": [FUTURE],
        "SENT": [EXCLUSIVE],
        "CALC": [EXCLUSIVE],
        "PAY": [PAYER],
        "ACK": [RULES_PASSED],
        "OK": [RULES_PASSED],
    }


def test_the_837_payer_is_read_from_loop_2010bb() -> None:
    text = x12(
        ("MEM1", ("SAMPLE TBS NON-COVERING PLAN", "SAMPLE-TBS-NONCOVERED"), [("A", [("HC:77091", "20250310")])]),
        ("MEM2", None, [("B", [("HC:77091", "20250310")])]),
    )
    first, second = parse_837p(text)
    assert first.claim is not None and first.claim.payer is not None
    assert (first.claim.payer.name, first.claim.payer.id) == ("SAMPLE TBS NON-COVERING PLAN", "SAMPLE-TBS-NONCOVERED")
    assert second.claim is not None and second.claim.payer is None  # a new subscriber loop forgets the last payer


def test_the_fixture_837s_carry_their_payer() -> None:
    for parsed in parse_837p((DATA / "x12" / "tbs_claims.837").read_bytes()):
        assert parsed.claim is not None and parsed.claim.payer is not None
        assert (parsed.claim.payer.name, parsed.claim.payer.id) == ("EXAMPLE HEALTH PLAN", "PAYER01")
