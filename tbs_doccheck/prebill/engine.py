"""Pre-bill review of TBS claims (CPT 77089-77092): find and check the linked report, run the registered rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tbs_doccheck._version import __version__
from tbs_doccheck.models import CheckResult, ReportInput
from tbs_doccheck.prebill import edits as _edits
from tbs_doccheck.prebill import registry
from tbs_doccheck.prebill import rules as _rules
from tbs_doccheck.prebill.context import LinkedReport, ResolvedLine, RuleContext, lines_of
from tbs_doccheck.prebill.contract import Claim, Decision, Outcome, ReasonItem, Versions
from tbs_doccheck.prebill.data import PrebillRules, load_prebill_rules
from tbs_doccheck.prebill.registry import rule
from tbs_doccheck.readers import read_path

if TYPE_CHECKING:
    from tbs_doccheck.checker.core import Checker

#: The modules whose rules the engine runs: importing them declares their rules in the registry.
RULE_MODULES = (_rules, _edits)

#: The reason ids the engine emits itself (declared in the registry below, on the code that builds them).
OUT_OF_SCOPE, RULES_PASSED, CLAIM_INVALID = "PB001-out-of-scope", "PB002-rules-passed", "PB090-claim-invalid"


def _verdict(reasons: Sequence[ReasonItem]) -> Outcome:
    outcomes = {r.outcome for r in reasons}
    if "hold" in outcomes:
        return "hold"
    return "review" if "review" in outcomes else "release"


# --------------------------------------------------------------------------------------------
# Orchestration: find and check the report, run the rules
# --------------------------------------------------------------------------------------------


def find_report_file(reports_dir: Path, claim_id: str) -> list[Path]:
    """The files in ``reports_dir`` whose name is ``claim_id`` (with any single extension).

    Entries are compared by name, never joined onto the directory, so a claim id
    such as ``../x`` cannot reach outside it.

    Args:
        reports_dir: The directory of reports named by claim id.
        claim_id: The claim id to look for.

    Returns:
        Matching files, sorted by name (empty when none; several when ambiguous).
    """
    try:
        entries = list(reports_dir.iterdir())
    except OSError:
        return []
    return sorted(e for e in entries if (e.name == claim_id or e.stem == claim_id) and e.is_file())


def _read_linked(path: Path, claim_id: str) -> ReportInput | str:
    """The one report in the linked file, or why there is not exactly one."""
    found = read_path(path)
    if len(found) == 1:
        return found[0]
    same = [r for r in found if r.id == claim_id]
    if len(same) == 1:
        return same[0]
    return f"{path.name} holds {len(found)} reports and none is identified as claim {claim_id}"


def _shared_checker() -> Checker:
    # Imported here: the pre-bill command line starts without loading spaCy until a report needs checking.
    from tbs_doccheck.checker.core import get_checker

    return get_checker()


def _resolve_report(
    claim: Claim, report_text: str | None, reports_dir: Path | None, checker: Checker | None
) -> LinkedReport:
    ref = claim.report
    if report_text is None and ref is not None:
        report_text = ref.text
    if report_text is not None:
        if not report_text.strip():
            return LinkedReport()  # an empty text is no report at all
        return LinkedReport(check=(checker or _shared_checker()).check_text(report_text, report_id=claim.claim_id))
    if ref is not None and ref.path is not None:
        path = Path(ref.path)
    else:
        matches = find_report_file(reports_dir, claim.claim_id) if reports_dir is not None else []
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches)
            return LinkedReport(problem=f"{len(matches)} files match claim {claim.claim_id}: {names}; keep one")
        if not matches:
            return LinkedReport()
        path = matches[0]
    linked = _read_linked(path, claim.claim_id)
    if isinstance(linked, str):
        return LinkedReport(problem=linked)
    return LinkedReport(check=(checker or _shared_checker()).check_input(linked))


def _needs_report(claim: Claim, rules: PrebillRules) -> bool:
    return any(line.code in rules.report_required_codes for line in claim.lines)


def prebill(
    claim: Claim | dict[str, Any],
    report_text: str | None = None,
    *,
    checker: Checker | None = None,
    reports_dir: Path | None = None,
    related: Sequence[Claim] = (),
    rules: PrebillRules | None = None,
    today: date | None = None,
) -> Decision:
    """Decide whether a claim carrying TBS codes may go to the payer.

    The report is checked only when a line needs one (77092, 77089). It comes
    from, in order: ``report_text``; the claim's ``report.text``; the file at
    ``report.path``; the file named by the claim id in ``reports_dir``.

    Args:
        claim: The claim, or its JSON contract as a dict.
        report_text: Report text that overrides the claim's linked report.
        checker: The documentation checker; the process-wide one when None.
        reports_dir: Where to look up the report by claim id when the claim links none.
        related: Other claims (e.g. an 837 batch; ``claim`` itself, by identity, is skipped);
            the lines of those for the same patient count for the rules across claims (bundling,
            units, 77090 with 77091, a TBS calculation's same-day DXA).
        rules: Rule data overriding the packaged ``prebill_rules.json``.
        today: The date dates of service are judged against (future dates are held); the
            machine's local date when None.

    Returns:
        The decision: hold if any rule holds, else review if any asks for review, else release.

    Raises:
        pydantic.ValidationError: ``claim`` does not follow the claim contract.
    """
    claim = claim if isinstance(claim, Claim) else Claim.model_validate(claim)
    rules = rules or load_prebill_rules()
    versions = Versions(tool=__version__, prebill_rules=rules.version)
    lines = lines_of(claim, own=True)
    if not any(line.code in rules.tbs_codes for line in lines):
        return _out_of_scope(claim, rules, versions)
    report = (
        _resolve_report(claim, report_text, reports_dir, checker) if _needs_report(claim, rules) else LinkedReport()
    )
    ctx = RuleContext(
        claim=claim,
        rules=rules,
        lines=lines,
        related=_related_lines(claim, related),
        report=report,
        today=today or date.today(),
    )
    reasons = [reason for check in registry.checks() for reason in check(ctx)] or [_rules_passed(ctx)]
    return _decision(claim, reasons, report.check, versions)


def _related_lines(claim: Claim, related: Sequence[Claim]) -> tuple[ResolvedLine, ...]:
    """The lines of the other claims in ``related`` for the same patient as ``claim``."""
    # Identity, not claim id: a batch holding the same claim twice must still see the duplicate.
    same_patient = [
        other
        for other in related
        if other is not claim and claim.patient_id is not None and other.patient_id == claim.patient_id
    ]
    return tuple(line for other in same_patient for line in lines_of(other, own=False))


@rule(
    OUT_OF_SCOPE,
    outcome="release",
    summary="no 77089-77092 line on the claim: the TBS rules do not apply",
    source="CPT code family 77089-77092 (prebill_rules.json: tbs_codes)",
    runs=False,
)
def _out_of_scope(claim: Claim, rules: PrebillRules, versions: Versions) -> Decision:
    """PB001: a claim without any TBS line is released untouched by the TBS rules."""
    reason = ReasonItem(
        rule_id=OUT_OF_SCOPE,
        outcome="release",
        message=f"No TBS line ({', '.join(rules.tbs_codes)}) on this claim; the TBS pre-bill rules do not apply.",
    )
    return Decision(claim_id=claim.claim_id, decision="release", reasons=[reason], versions=versions)


@rule(
    RULES_PASSED,
    outcome="release",
    summary="the claim carries TBS codes and every rule passed",
    source="this tool: no registered rule gave a reason",
    runs=False,
)
def _rules_passed(ctx: RuleContext) -> ReasonItem:
    """PB002: why a claim in scope may go when no rule gave a reason."""
    codes = ", ".join(sorted({line.code for line in ctx.tbs_lines}))
    documented = " and the linked report documents all five elements" if ctx.report.check else ""
    return ReasonItem(
        rule_id=RULES_PASSED,
        outcome="release",
        message=f"{codes}: every TBS pre-bill rule passed{documented}.",
    )


def _decision(claim: Claim, reasons: list[ReasonItem], check: CheckResult | None, versions: Versions) -> Decision:
    if check is not None:
        versions = versions.model_copy(update={"checker_patterns": check.patterns_version})
    return Decision(
        claim_id=claim.claim_id, decision=_verdict(reasons), reasons=reasons, check=check, versions=versions
    )


@rule(
    CLAIM_INVALID,
    outcome="hold",
    summary="a claim (e.g. one CLM of an 837) could not be read into the claim contract: decision error, "
    "the claim held until corrected",
    source="the claim contract (contract.py); X12 005010X222A1 for 837P files",
    runs=False,
)
def invalid_claim_decision(
    claim_id: str, problem: str, *, lines: Sequence[int] = (), rules: PrebillRules | None = None
) -> Decision:
    """The decision for a claim that could not be read into the claim contract (bad JSON claim, bad CLM of an 837).

    Its ``decision`` is ``error`` (the commands exit 2): no rule could judge the claim, which must not go
    out until its data are corrected, so the reason's outcome is ``hold``.

    Args:
        claim_id: The claim's id as far as it could be read ("" when it could not).
        problem: What was wrong, naming fields (list positions counted from 1) and segments, never report text.
        lines: The 1-based claim lines the problem is about.
        rules: Rule data (for its version); the packaged rules when None.

    Returns:
        An ``error`` decision with the one reason ``PB090-claim-invalid``.
    """
    rules = rules or load_prebill_rules()
    reason = ReasonItem(
        rule_id=CLAIM_INVALID,
        outcome="hold",
        message=f"The claim could not be read for pre-bill review: {problem}. Correct the claim data.",
        lines=list(lines),
    )
    return Decision(
        claim_id=claim_id,
        decision="error",
        reasons=[reason],
        versions=Versions(tool=__version__, prebill_rules=rules.version),
    )


def prebill_many(
    claims: Sequence[Claim],
    *,
    checker: Checker | None = None,
    reports_dir: Path | None = None,
    rules: PrebillRules | None = None,
    today: date | None = None,
) -> list[Decision]:
    """Decide a batch of claims, each seeing the others for the same patient (bundling, units, companion codes).

    Args:
        claims: The claims, e.g. every CLM of an 837 file.
        checker: The documentation checker; the process-wide one when None.
        reports_dir: Where to look up each claim's report by claim id.
        rules: Rule data overriding the packaged file.
        today: The date future dates of service are judged against; the local date when None.

    Returns:
        One decision per claim, in order.
    """
    today = today or date.today()  # one date for the whole batch, even across midnight
    return [
        prebill(claim, checker=checker, reports_dir=reports_dir, related=claims, rules=rules, today=today)
        for claim in claims
    ]
