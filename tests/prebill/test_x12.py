"""X12 837P: the tokenizer honours declared separators, the walk finds every claim, the command decides them all."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tbs_doccheck.cli.app import app as cli
from tbs_doccheck.prebill.x12 import Delimiters, X12Error, looks_like_x12, parse_837p, read_837p, segments

X12 = Path(__file__).resolve().parent.parent / "data" / "x12"
REPORTS = X12 / "reports"

#: The files under data/x12 follow 005010X222A1 (checked with pyx12's validator when they were
#: written), except claim_level_date.837, which dates its claim in 2300 as some submitters do.
BATCH = X12 / "tbs_claims.837"


def batch_text() -> str:
    return BATCH.read_text()


# --------------------------------------------------------------------------------------------
# The tokenizer
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "delimiters"),
    [
        ("tbs_claims.837", [Delimiters("*", ":", "~", "^")]),
        ("separators.837", [Delimiters("|", ">", "\n", "{")]),
        ("two_interchanges.837", [Delimiters("*", ":", "~", "^"), Delimiters("!", "^", "\n", "{")]),
    ],
)
def test_each_interchange_is_split_by_the_separators_its_isa_declares(
    name: str, delimiters: list[Delimiters]
) -> None:
    found = [seg.delimiters for seg in segments((X12 / name).read_bytes()) if seg.tag == "ISA"]
    assert found == delimiters


def test_segments_are_numbered_and_their_elements_addressed_as_the_guide_numbers_them() -> None:
    sv1 = next(seg for seg in segments(batch_text()) if seg.tag == "SV1")
    assert (sv1.comp(1, 1), sv1.comp(1, 2), sv1.el(4), sv1.el(99), sv1.comp(1, 9)) == ("HC", "77092", "1", "", "")
    assert sv1.position == 26


def test_an_isa_with_trimmed_padding_still_declares_its_separators() -> None:
    text = batch_text().replace("SUBMITTERID    ", "SUBMITTERID").replace(" " * 10, "")
    assert [c.claim_id for c in parse_837p(text)][:2] == ["TBS1001", "TBS1002"]


def test_line_breaks_after_segment_terminators_and_a_missing_last_terminator_are_tolerated() -> None:
    text = batch_text().replace("~\n", "~\r\n").rstrip("~\r\n")
    assert len(parse_837p(text.encode())) == 10


@pytest.mark.parametrize(
    ("story", "mangle", "complaint"),
    [
        ("not X12 at all", lambda t: '{"claim_id": "C01"}', "expected an ISA segment"),
        ("an empty file", lambda t: "", "empty"),
        ("a truncated file", lambda t: t[: t.index("CLM*TBS1003")], "truncated"),
        ("a transaction without its SE", lambda t: t.replace("SE*", "XX*"), "has no SE"),
        ("a wrong segment count", lambda t: t.replace("SE*152*", "SE*151*"), "SE01 says '151'"),
        ("a control number mismatch", lambda t: t.replace("SE*152*0001", "SE*152*0002"), "does not match ST02"),
        ("a remittance, not a claim", lambda t: t.replace("ST*837*", "ST*835*"), "not an 837"),
        ("an institutional claim", lambda t: t.replace("005010X222A1", "005010X223A2"), "not the 837 Professional"),
        ("another functional group", lambda t: t.replace("GS*HC*", "GS*HP*"), "not health care claims"),
        ("an ISA cut short", lambda t: t[:40], "fewer than 16 elements"),
        ("separators that collide", lambda t: t.replace("*T*:~", "*T*~~", 1), "unusable separators"),
        ("a garbled segment id", lambda t: t.replace("BHT*", "bht*"), "is not a segment id"),
        ("a claim outside any HL loop", lambda t: t.replace("HL*2*1*22*0~", "NTE*ADD*X~"), "CLM outside"),
    ],
)
def test_files_that_are_not_readable_837p_are_refused_with_a_reason(story: str, mangle, complaint: str) -> None:
    with pytest.raises(X12Error, match=complaint):
        parse_837p(mangle(batch_text()))


def test_x12_is_recognised_by_its_isa_header() -> None:
    assert looks_like_x12(b"\xef\xbb\xbf\r\nISA*00*")
    assert not looks_like_x12(b'{"claim_id": "ISA"}')


# --------------------------------------------------------------------------------------------
# The 837P walk
# --------------------------------------------------------------------------------------------


def test_every_clm_becomes_a_claim_in_file_order() -> None:
    assert [c.claim_id for c in read_837p(BATCH)] == [f"TBS10{n:02d}" for n in range(1, 11)]


@pytest.mark.parametrize(
    ("claim_id", "codes", "units", "dates", "provider", "entity", "taxonomy", "patient"),
    [
        ("TBS1001", ["77092"], [1], [date(2025, 3, 10)], "HAROLD SMITH", "person", "2085R0202X", "MEM0001"),
        (
            "TBS1002", ["77089", "77092"], [1, 1], [date(2025, 3, 10)] * 2,
            "HAROLD SMITH", "person", "2085R0202X", "MEM0002",
        ),
        ("TBS1003", ["77092"], [1], [date(2021, 12, 15)], "HAROLD SMITH", "person", "2085R0202X", "MEM0003"),
        ("TBS1004", ["77092"], [2], [date(2025, 3, 10)], "HAROLD SMITH", "person", "2085R0202X", "MEM0004"),
        ("TBS1005", ["77092"], [1], [date(2025, 3, 10)], "JANE ROE", "person", "2471B0102X", "MEM0005"),
        # no NM1*82: the billing provider (NM1*85 with its PRV*BI) renders
        (
            "TBS1007", ["77092"], [1], [date(2025, 3, 10)],
            "NORTHWIND BONE CLINIC", "organization", "2085R0202X", "MEM0007",
        ),
        # a dependent (2000C): subscriber id + name + birth date
        ("TBS1008", ["77092"], [1], [date(2025, 3, 10)], "NORTHWIND BONE CLINIC", "organization", "2085R0202X",
         "MEM0008:GARCIA:ROSA:19450808"),
        ("TBS1009", ["77091"], [1], [date(2025, 3, 12)], "HAROLD SMITH", "person", "2085R0202X", "MEM0009"),
        ("TBS1010", ["77089"], [1], [date(2025, 3, 12)], "HAROLD SMITH", "person", "2085R0202X", "MEM0009"),
    ],
)
def test_claims_carry_codes_units_dates_provider_and_patient(
    claim_id: str,
    codes: list[str],
    units: list[int],
    dates: list[date],
    provider: str,
    entity: str,
    taxonomy: str,
    patient: str,
) -> None:
    (parsed,) = [c for c in read_837p(BATCH) if c.claim_id == claim_id]
    claim = parsed.claim
    assert claim is not None and parsed.error is None
    assert [line.code for line in claim.lines] == codes
    assert [line.units for line in claim.lines] == units
    assert [line.date_of_service or claim.date_of_service for line in claim.lines] == dates
    assert claim.rendering_provider is not None
    assert (claim.rendering_provider.name, claim.rendering_provider.entity) == (provider, entity)
    assert claim.rendering_provider.taxonomy == taxonomy
    assert claim.patient_id == patient


def test_a_line_level_rendering_provider_2420a_is_kept_on_its_line() -> None:
    (parsed,) = [c for c in read_837p(BATCH) if c.claim_id == "TBS1008"]
    assert parsed.claim is not None
    provider = parsed.claim.lines[0].rendering_provider
    assert provider is not None
    assert (provider.name, provider.npi, provider.taxonomy) == ("HAROLD SMITH", "1245319599", "2085R0202X")


def test_a_claim_level_dtp_472_dates_the_lines_without_their_own() -> None:
    (parsed,) = read_837p(X12 / "claim_level_date.837")
    assert parsed.claim is not None
    assert parsed.claim.date_of_service == date(2025, 5, 1)
    assert [line.date_of_service for line in parsed.claim.lines] == [None, date(2025, 5, 2)]


def test_modifiers_come_from_the_sv101_components() -> None:
    first, _ = read_837p(X12 / "separators.837")
    assert first.claim is not None and first.claim.lines[0].modifiers == ["GA"]


def test_a_person_billing_provider_renders_when_there_is_no_nm1_82() -> None:
    first, _ = read_837p(X12 / "separators.837")
    assert first.claim is not None and first.claim.rendering_provider is not None
    assert (first.claim.rendering_provider.name, first.claim.rendering_provider.entity) == ("HAROLD SMITH", "person")


def test_a_credential_in_nm107_is_taken_as_the_credential() -> None:
    text = batch_text().replace("NM1*82*1*ROE*JANE****XX", "NM1*82*1*ROE*JANE***RT*XX")
    (parsed,) = [c for c in parse_837p(text) if c.claim_id == "TBS1005"]
    assert parsed.claim is not None and parsed.claim.rendering_provider is not None
    assert (parsed.claim.rendering_provider.name, parsed.claim.rendering_provider.credential) == ("JANE ROE", "RT")


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("SV1*HC:77092*85.00*UN*1*", "SV1*HC:77092*85.00*UN*1.5*", "SV104 units '1.5'"),
        ("DTP*472*D8*20250310", "DTP*472*D8*2025031", "neither D8 nor RD8"),
        ("DTP*472*D8*20250310", "DTP*573*D8*20250310", "no date_of_service"),
        ("XX*1245319599", "XX*12453", "npi"),
    ],
)
def test_one_bad_claim_is_reported_without_losing_the_others(old: str, new: str, complaint: str) -> None:
    text = batch_text().replace(old, new, 1)  # the first occurrence is in the first claim, TBS1001
    assert text != batch_text()
    parsed = parse_837p(text)
    assert len(parsed) == 10
    first = parsed[0]
    assert first.claim is None and first.error is not None and complaint in first.error
    assert all(p.claim is not None for p in parsed[1:])


# --------------------------------------------------------------------------------------------
# The command on an 837 with several claims
# --------------------------------------------------------------------------------------------

#: What the pre-bill review makes of each claim of tbs_claims.837 with data/x12/reports.
EXPECTED = {
    "TBS1001": ("release", ["PB002-rules-passed"]),
    # 77089 calculates the TBS from a DXA, and no DXA (77080-77086) is billed for these patients on those dates
    "TBS1002": ("hold", ["PB010-77089-bundled", "PB016-calculation-without-dxa"]),
    "TBS1003": ("hold", ["PB011-dos-before-2022", "PB020-report-missing"]),
    "TBS1004": ("hold", ["PB012-units-exceed"]),
    "TBS1005": ("hold", ["PB030-provider-not-qualified", "PB040-signer-mismatch"]),
    "TBS1006": ("release", ["PB001-out-of-scope"]),
    "TBS1007": ("review", ["PB031-provider-unverified"]),
    "TBS1008": ("release", ["PB002-rules-passed"]),  # report as RTF, signed "Smith, Harold J., M.D."
    # 77091 here, 77089 on TBS1010: same patient, same day
    "TBS1009": ("hold", ["PB010-77089-bundled", "PB016-calculation-without-dxa"]),
    "TBS1010": ("hold", ["PB010-77089-bundled", "PB016-calculation-without-dxa"]),
}


def run_cli(*args: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(cli, ["prebill", *args])
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_an_837_with_several_claims_prints_one_decision_a_line_and_exits_1_when_any_is_held() -> None:
    code, decisions = run_cli(str(BATCH), "--reports", str(REPORTS))
    assert code == 1
    got = {d["claim_id"]: (d["decision"], [r["rule_id"] for r in d["reasons"]]) for d in decisions}
    assert got == EXPECTED
    assert [d["claim_id"] for d in decisions] == list(EXPECTED)
    checked = {d["claim_id"] for d in decisions if d["check"] is not None}
    assert checked == {"TBS1001", "TBS1002", "TBS1004", "TBS1005", "TBS1007", "TBS1008", "TBS1010"}


def test_an_837_whose_claims_all_pass_exits_0(tmp_path: Path) -> None:
    for claim_id in ("TBS3001", "TBS3002"):
        shutil.copy(REPORTS / "TBS1001.txt", tmp_path / f"{claim_id}.txt")
    code, decisions = run_cli(str(X12 / "two_interchanges.837"), "--reports", str(tmp_path))
    assert (code, [d["decision"] for d in decisions]) == (0, ["release", "release"])


def test_an_837_without_a_reports_folder_holds_the_interpretation_claims() -> None:
    code, decisions = run_cli(str(X12 / "separators.837"))
    assert code == 1
    assert [(d["claim_id"], d["decision"]) for d in decisions] == [("TBS2001", "hold"), ("TBS2002", "review")]
    # TBS2002 is a lone 77091 with no DXA for the patient that day: a TBS calculation payers deny
    assert [r["rule_id"] for r in decisions[1]["reasons"]] == ["PB016-calculation-without-dxa"]


def test_an_unreadable_claim_is_an_error_decision_and_the_rest_still_decided() -> None:
    code, decisions = run_cli(str(X12 / "bad_units.837"))
    assert code == 2
    assert [(d["claim_id"], d["decision"], d["reasons"][0]["rule_id"]) for d in decisions] == [
        ("TBS4001", "error", "PB090-claim-invalid"),
        ("TBS4002", "release", "PB001-out-of-scope"),
    ]
    assert "SV104 units '1.5'" in decisions[0]["reasons"][0]["message"]


def test_an_unreadable_837_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.837"
    broken.write_text(batch_text()[:2000])
    result = CliRunner().invoke(cli, ["prebill", str(broken)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert "not a readable 837P file" in result.stderr and "truncated" in result.stderr
