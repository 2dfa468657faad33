"""Physician queries and re-check: a letter per signer for the failing reports, compliant wording, and a re-check
that closes exactly the queries whose reports were amended to pass."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from tbs_doccheck.cli.app import app
from tbs_doccheck.queries import (
    FILE_MISSING,
    OPEN,
    RESOLVED,
    letter_text,
    read_templates,
    read_worklist,
    write_queries,
)
from tbs_doccheck.queries.letters import quote
from tbs_doccheck.queries.templates import NOT_IN_A_QUERY, redact
from tbs_doccheck.resources import PatternError

try:
    from paths import ROOT
except ImportError:  # pragma: no cover
    from tests.paths import ROOT

HEAD = (
    "DXA BONE DENSITY WITH TRABECULAR BONE SCORE\n"
    "Patient: Doe, Jane   DOB 03/14/1955   Exam date: 03/05/2025\n"
    "Hologic Horizon A; TBS iNsight 3.1\n"
)
TBS = "TBS L1-L4: 1.254, partially degraded microarchitecture.\n"
RISK = "FRAX MOF 16.1%, hip 3.0%; the fracture risk is high.\n"
RECS = "Recommendations: calcium and vitamin D; repeat DXA in 2 years.\n"


def signed(name: str) -> str:
    return f"Electronically signed by {name} 03/06/2025 10:10\n"


#: name -> (text, verdict the checker gives it). Three signers fail, one passes too; one report has no signer.
REPORTS = {
    "stone-no-recs.txt": (HEAD + TBS + RISK + signed("Ada Stone, MD"), "fail"),
    "stone-no-risk.txt": (HEAD + TBS + RECS + signed("Ada Stone, MD"), "fail"),
    "stone-pass.txt": (HEAD + TBS + RISK + RECS + signed("Ada Stone, MD"), "pass"),
    "okafor-no-source.txt": (
        "TRABECULAR BONE SCORE REPORT\nTBS L1-L4: 1.254\n" + RISK + RECS + signed("Ben Okafor, DO"), "fail"),
    "lind-no-tbs.txt": (HEAD + "TBS not calculated.\n" + RISK + RECS + signed("Cara Lind, NP"), "fail"),
    "lind-pass.txt": (HEAD + TBS + RISK + RECS + signed("Cara Lind, NP"), "pass"),
    "unsigned.txt": (HEAD + TBS + RISK + RECS + "Dictated, not signed.\n", "fail"),
}
FAILING = sorted(Path(n).stem for n, (_, v) in REPORTS.items() if v == "fail")
PASSING = sorted(Path(n).stem for n, (_, v) in REPORTS.items() if v == "pass")
_HEADING = re.compile(r"^Report \d+ of \d+: (.+)$", re.MULTILINE)


def make_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, (text, _verdict) in REPORTS.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")  # unreadable: no query
    return root


def audit_with_queries(tmp_path: Path) -> tuple[Path, Path, str]:
    src = make_folder(tmp_path / "in")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["audit", str(src), "--out", str(out), "--queries"])
    assert result.exit_code == 2, result.output  # an unreadable file among them
    return src, out, result.output


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    return audit_with_queries(tmp_path_factory.mktemp("q"))


def letters(out: Path) -> dict[str, str]:
    return {p.name: letter_text(p) for p in sorted((out / "queries").glob("*.docx"))}


def test_the_fixture_reports_get_the_verdicts_the_tests_assume(audited) -> None:
    _src, out, _output = audited
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    verdicts = {r["id"]: r["verdict"] for r in rows}
    assert verdicts == {**{Path(n).stem: v for n, (_, v) in REPORTS.items()}, "empty": "error"}


def test_audit_queries_writes_one_letter_per_signer_and_one_for_no_signer(audited) -> None:
    _src, out, _output = audited
    assert set(letters(out)) == {
        "query-ada-stone-md.docx", "query-ben-okafor-do.docx", "query-cara-lind-np.docx",
        "query-no-identifiable-signer.docx",
    }
    for path in (out / "queries").glob("*.docx"):
        docx.Document(str(path))  # python-docx opens every letter


def test_every_failing_report_is_in_exactly_one_letter_and_no_passing_one_is(audited) -> None:
    _src, out, _output = audited
    seen = [(name, rid) for name, text in letters(out).items() for rid in _HEADING.findall(text)]
    assert sorted(rid for _, rid in seen) == FAILING
    by_letter = {name: sorted(rid for n, rid in seen if n == name) for name in {n for n, _ in seen}}
    assert by_letter["query-ada-stone-md.docx"] == ["stone-no-recs", "stone-no-risk"]
    assert by_letter["query-no-identifiable-signer.docx"] == ["unsigned"]
    assert not any(rid in PASSING for _, rid in seen)


def test_no_letter_mentions_payment_reimbursement_or_an_amount(audited) -> None:
    _src, out, _output = audited
    for name, text in letters(out).items():
        assert not re.search(r"payment|reimburs|[$\u00a3\u20ac]\s?\d|\d\s?(?:USD|EUR|dollars?)\b", text, re.I), name
        assert not NOT_IN_A_QUERY.search(text.replace("Bill", "")), name


def test_each_question_is_open_and_quotes_the_record_with_its_location(audited) -> None:
    _src, out, _output = audited
    text = letters(out)["query-ada-stone-md.docx"]
    assert text.count("\u2610 Other") == text.count("\u2610 Unable to determine") == 2  # one block per element
    assert "Question: Please clarify" in text
    no_signer = letters(out)["query-no-identifiable-signer.docx"]
    assert re.search(r"Found but not counted: \u201c.*\u201d \(line \d+", no_signer) or "No wording" in no_signer
    okafor = letters(out)["query-ben-okafor-do.docx"]
    assert "Imaging source" in okafor and "Exam date" in okafor


def test_the_worklist_has_one_open_row_per_failing_report(audited) -> None:
    _src, out, _output = audited
    rows = read_worklist(out / "queries")
    assert sorted(r.report_id for r in rows) == FAILING
    assert {r.status for r in rows} == {OPEN}
    assert all((out / "queries" / r.letter).is_file() for r in rows)
    assert len({r.query_id for r in rows}) == len(rows)
    stone = [r for r in rows if r.report_id == "stone-no-recs"][0]
    assert stone.signer == "Ada Stone, MD" and stone.elements == "recommendations" and stone.exam_date == "03/05/2025"
    with open(out / "queries" / "worklist.csv", encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh))[:3] == ["query_id", "status", "signer"]
    summary = json.loads((out / "queries" / "summary.json").read_text(encoding="utf-8"))
    assert summary["by_signer"]["Ada Stone, MD"] == {"open": 2}


def test_the_terminal_gets_counts_not_names(audited) -> None:
    _src, _out, output = audited
    assert "queries: 5 failing report(s) in 4 letter(s)" in output
    assert "Stone" not in output and "Okafor" not in output


# --------------------------------------------------------------------------- recheck


def amend(src: Path, name: str, text: str) -> None:
    (src / name).write_text(text, encoding="utf-8")


def test_recheck_after_amending_two_reports_resolves_exactly_those_two(tmp_path: Path) -> None:
    src, out, _ = audit_with_queries(tmp_path)
    before = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    amend(src, "stone-no-recs.txt", REPORTS["stone-no-recs.txt"][0].replace(RISK, RISK + RECS))
    amend(src, "okafor-no-source.txt", HEAD + TBS + RISK + RECS + signed("Ben Okafor, DO"))

    result = CliRunner().invoke(app, ["recheck", str(out)])

    assert result.exit_code == 1, result.output  # three queries stay open
    assert "re-checked 2 changed or new file(s)" in result.output
    assert "2 resolved, 3 still failing (0 of them amended), 0 new" in result.output
    rows = {r.report_id: r for r in read_worklist(out / "queries")}
    assert sorted(k for k, r in rows.items() if r.status == RESOLVED) == ["okafor-no-source", "stone-no-recs"]
    assert sorted(k for k, r in rows.items() if r.status == OPEN) == ["lind-no-tbs", "stone-no-risk", "unsigned"]
    after = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    verdicts = {json.loads(line)["id"]: json.loads(line)["verdict"] for line in after}
    assert verdicts["stone-no-recs"] == verdicts["okafor-no-source"] == "pass"
    changed = {i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
    assert {json.loads(after[i])["id"] for i in changed} == {"stone-no-recs", "okafor-no-source"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["passed"] == len(PASSING) + 2 and summary["failed"] == len(FAILING) - 2
    assert "Stone" not in result.output

    again = CliRunner().invoke(app, ["recheck", str(out)])
    assert "re-checked 0 changed or new file(s)" in again.output
    assert "0 resolved, 3 still failing" in again.output


def test_recheck_counts_amended_but_still_failing_new_failures_and_missing_files(tmp_path: Path) -> None:
    src, out, _ = audit_with_queries(tmp_path)
    amend(src, "stone-no-risk.txt", REPORTS["stone-no-risk.txt"][0] + "Addendum: no change.\n")  # still failing
    amend(src, "lind-pass.txt", HEAD + TBS + RISK + signed("Cara Lind, NP"))  # a passing report now fails
    (src / "unsigned.txt").unlink()
    (src / "new.txt").write_text(HEAD + TBS + RISK + signed("Dan New, MD"), encoding="utf-8")

    result = CliRunner().invoke(app, ["recheck", str(out), "--exit-zero"])

    assert result.exit_code == 0, result.output
    assert "re-checked 3 changed or new file(s) (5 unchanged, 1 gone)" in result.output
    assert "0 resolved, 4 still failing (1 of them amended), 2 new, 1 with their file gone" in result.output
    rows = read_worklist(out / "queries")
    new = sorted(r.report_id for r in rows if r.status == OPEN and not r.letter)
    assert new == ["lind-pass", "new"]
    assert [r.report_id for r in rows if r.status == FILE_MISSING] == ["unsigned"]
    # `queries` then writes the new letters and keeps the history
    report = write_queries(out)
    assert report.queried == 6
    rows = read_worklist(out / "queries")
    assert [r.report_id for r in rows if r.status == FILE_MISSING] == ["unsigned"]
    assert all(r.letter for r in rows if r.status == OPEN)


def test_queries_again_keeps_the_ids_of_open_queries(tmp_path: Path) -> None:
    src, out, _ = audit_with_queries(tmp_path)
    first = {r.report_id: r.query_id for r in read_worklist(out / "queries")}
    write_queries(out)
    assert {r.report_id: r.query_id for r in read_worklist(out / "queries")} == first


def test_recheck_needs_the_query_manifest(tmp_path: Path) -> None:
    src = make_folder(tmp_path / "in")
    CliRunner().invoke(app, ["audit", str(src), "--out", str(tmp_path / "out")])
    result = CliRunner().invoke(app, ["recheck", str(tmp_path / "out")])
    assert result.exit_code == 2 and "run `tbs-doccheck queries`" in result.output
    result = CliRunner().invoke(app, ["queries", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "results.jsonl" in result.output


# --------------------------------------------------------------------------- templates


def _templates() -> dict:
    return json.loads((ROOT / "patterns" / "query_templates.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path, value",
    [
        (("intro", 0), "Documenting this supports reimbursement."),
        (("closing", 0), "Incomplete reports delay payment."),
        (("elements", "signature", "question"), "Unsigned reports cost the department $120 each: please sign."),
        (("elements", "fracture_risk", "options"), ["Fracture risk was assessed: ____", "Not assessed", "Other"]),
        (("elements", "tbs_value", "options"), ["Documented: ____", "Not obtained", "Unable to determine"]),
        (("elements", "recommendations", "surprise"), "x"),
    ],
    ids=["reimbursement", "payment", "amount", "no unable-to-determine", "no other", "unknown key"],
)
def test_templates_that_break_compliant_practice_are_refused(tmp_path: Path, path: tuple, value: object) -> None:
    data = _templates()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (tmp_path / "query_templates.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PatternError, match="P001"):
        read_templates(tmp_path)


def test_a_department_can_reword_the_templates(tmp_path: Path) -> None:
    data = _templates()
    data["title"] = "Query from the bone densitometry service"
    (tmp_path / "query_templates.json").write_text(json.dumps(data), encoding="utf-8")
    src = make_folder(tmp_path / "in")
    CliRunner().invoke(app, ["audit", str(src), "--out", str(tmp_path / "out")])
    write_queries(tmp_path / "out", templates=read_templates(tmp_path))
    assert all(t.startswith("Query from the bone densitometry service") for t in letters(tmp_path / "out").values())


def test_quotes_from_a_report_lose_amounts_and_payment_words_but_keep_names() -> None:
    assert redact("Copay $25.00 collected; payment pending; 40 USD; Bill Smith, MD; CAD") == (
        "Copay [omitted] collected; [omitted] pending; [omitted]; Bill Smith, MD; CAD"
    )
    assert quote("a\n  b " + "x" * 400).startswith("a b x") and len(quote("x" * 400)) == 240


def test_a_name_that_is_not_utf8_and_control_characters_still_give_a_letter(tmp_path: Path) -> None:
    import os

    src = tmp_path / "in"
    src.mkdir()
    odd = src / os.fsdecode(b"caf\xe9-no-recs.txt")  # a file name that is not UTF-8
    odd.write_bytes((HEAD + "TBS L1-L4: 1.254 \x07 partially degraded.\n" + RISK + signed("Ada Stone, MD")).encode())
    CliRunner().invoke(app, ["audit", str(src), "--out", str(tmp_path / "out")])
    report = write_queries(tmp_path / "out")
    assert report.queried == 1
    text = letters(tmp_path / "out")["query-ada-stone-md.docx"]
    assert "\ufffd" in text  # the undecodable byte, shown as a replacement character
    rows = read_worklist(tmp_path / "out" / "queries")
    assert len(rows) == 1 and rows[0].source == str(odd)
    odd.write_bytes((HEAD + TBS + RISK + RECS + signed("Ada Stone, MD")).encode())
    result = CliRunner().invoke(app, ["recheck", str(tmp_path / "out")])
    assert "1 resolved, 0 still failing" in result.output, result.output
