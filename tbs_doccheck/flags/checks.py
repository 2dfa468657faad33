"""The five consistency rules: each reads the result and the report text and returns at most one flag."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cached_property

from tbs_doccheck.flags.categories import Scheme, claims_about, own_scheme
from tbs_doccheck.flags.rules import (
    AnyRule,
    BmiRule,
    CategoryRule,
    DateOrderRule,
    FlagRules,
    FraxAgeRule,
    FraxDirectionRule,
)
from tbs_doccheck.flags.text import (
    Age,
    DateMention,
    FraxNumber,
    ReportDates,
    bmis,
    dates,
    frax_numbers,
    patient_age,
    possible_conventions,
    report_dates,
)
from tbs_doccheck.models import CheckResult, Evidence, Flag

log = logging.getLogger(__name__)

_DECIMALS = re.compile(r"(?<![\d.])\d\.(\d{1,4})(?![\d.])")


class _Report:
    """One report as the rules read it; each finding is worked out once, on first use."""

    def __init__(self, result: CheckResult, text: str) -> None:
        self.result = result
        self.text = text

    def evidence(self, start: int, end: int, rule_id: str, reason: str) -> Evidence:
        return Evidence(text=self.text[start:end], start=start, end=end, rule_id=rule_id, reason=reason)

    @cached_property
    def value_spans(self) -> list[tuple[int, int]]:
        """Where the checker found the current TBS value."""
        element = self.result.elements.get("tbs_value")
        return [(e.start, e.end) for e in element.evidence] if element else []

    @cached_property
    def tolerance(self) -> float:
        """Half the last decimal the value is written with: 1.31 may be 1.305-1.315, 1.310 only 1.3095-1.3105."""
        value = self.result.tbs_value
        for start, end in self.value_spans:
            for m in _DECIMALS.finditer(self.text, start, end):
                if value is not None and abs(float(m.group()) - value) < 1e-9:
                    return 0.5 * 10 ** -len(m.group(1))
        return 0.0005

    @cached_property
    def all_dates(self) -> list[DateMention]:
        return dates(self.text)

    @cached_property
    def dates(self) -> ReportDates:
        element = self.result.elements.get("signature")
        starts = [e.start for e in element.evidence] if element else []
        return report_dates(self.text, starts, self.all_dates)

    @cached_property
    def age(self) -> Age | None:
        return patient_age(self.text, self.dates)

    @cached_property
    def frax(self) -> list[FraxNumber]:
        return frax_numbers(self.text)

    def value_evidence(self, rule_id: str) -> list[Evidence]:
        return [self.evidence(s, e, rule_id, "the current TBS value") for s, e in self.value_spans[:1]]


def _flag(rule: AnyRule, evidence: list[Evidence], **fields: object) -> Flag:
    return Flag(id=rule.id, severity=rule.severity, message=rule.message.format(**fields), evidence=evidence)


def check_category(report: _Report, rule: CategoryRule, rules: FlagRules) -> Flag | None:
    """QC-TBS-CATEGORY-MISMATCH."""
    value = report.result.tbs_value
    if value is None or not 0.5 <= value <= 2.0:
        return None
    tolerance = report.tolerance
    own = own_scheme(report.text)
    published = [Scheme(s.degraded_at_or_below, s.normal_above, s.id) for s in rules.tbs_category_schemes]
    for claim in claims_about(report.text, value, tolerance):
        if own is not None and not own.fits(value, claim.category, tolerance):
            why = f"under {own.label} it is {own.category_of(value)}"
        elif not any(s.fits(value, claim.category, tolerance) for s in published):
            why = "every published scheme calls it otherwise (" + "; ".join(
                f"{s.category_of(value)} under {s.label}" for s in published
            ) + ")"
        else:
            continue
        evidence = [report.evidence(claim.start, claim.end, rule.id, "the stated category"),
                    *report.value_evidence(rule.id)]
        return _flag(rule, evidence, value=f"{value:g}", stated=report.text[claim.start : claim.end], why=why)
    return None


def check_bmi(report: _Report, rule: BmiRule, rules: FlagRules) -> Flag | None:
    """QC-BMI-OUT-OF-RANGE."""
    value = report.result.tbs_value
    found = bmis(report.text)
    if value is None or not found or any(rule.bmi_min <= b <= rule.bmi_max for b, _, _ in found):
        return None
    if rule.caveats.search(report.text):
        return None
    bmi, start, end = found[0]
    evidence = [report.evidence(start, end, rule.id, "the stated BMI"), *report.value_evidence(rule.id)]
    return _flag(rule, evidence, value=f"{value:g}", bmi=f"{bmi:g}", bmi_min=rule.bmi_min, bmi_max=rule.bmi_max)


def check_frax_age(report: _Report, rule: FraxAgeRule, rules: FlagRules) -> Flag | None:
    """QC-FRAX-AGE-RANGE."""
    if not report.frax:
        return None
    age = report.age
    if age is None or (rule.age_min <= age.high and age.low <= rule.age_max):
        return None
    first = report.frax[0]
    evidence = [report.evidence(first.start, first.end, rule.id, "a FRAX probability"),
                *(report.evidence(s, e, rule.id, "the patient's age or birth date") for s, e in age.evidence)]
    return _flag(rule, evidence, frax=report.text[first.start : first.end], age=age.describe(),
                 age_min=rule.age_min, age_max=rule.age_max)


def check_frax_direction(report: _Report, rule: FraxDirectionRule, rules: FlagRules) -> Flag | None:
    """QC-FRAX-TBS-DIRECTION."""
    value = report.result.tbs_value
    if value is None:
        return None
    tolerance = report.tolerance
    if value + tolerance <= rule.low_tbs_at_most:
        expect, zone = "up", "degraded"
    elif value - tolerance >= rule.high_tbs_at_least:
        expect, zone = "down", "normal"
    else:
        return None
    age = report.age
    if rule.skip_above_age is not None and age is not None and age.low > rule.skip_above_age:
        return None
    for outcome, name in (("MOF", "major osteoporotic fracture"), ("hip", "hip fracture")):
        plain = {f.value: f for f in report.frax if f.outcome == outcome and f.adjusted is False}
        adjusted = {f.value: f for f in report.frax if f.outcome == outcome and f.adjusted is True}
        unclear = {f.value for f in report.frax if f.outcome == outcome and f.adjusted is None}
        if len(plain) != 1 or len(adjusted) != 1 or unclear - plain.keys() - adjusted.keys():
            continue  # one of each, and no third number that might be the real starting point
        (u, u_at), (a, a_at) = next(iter(plain.items())), next(iter(adjusted.items()))
        if (expect == "up" and a < u) or (expect == "down" and a > u):
            evidence = [report.evidence(u_at.start, u_at.end, rule.id, "the FRAX probability"),
                        report.evidence(a_at.start, a_at.end, rule.id, "the TBS-adjusted FRAX probability"),
                        *report.value_evidence(rule.id)]
            return _flag(rule, evidence, outcome=name, adjusted=f"{a:g}", unadjusted=f"{u:g}",
                         moved="lower" if a < u else "higher", value=f"{value:g}", zone=zone)
    return None


def check_date_order(report: _Report, rule: DateOrderRule, rules: FlagRules) -> Flag | None:
    """QC-DATE-ORDER."""
    found = report.dates
    if not found.exam or not found.signed:
        return None
    whole = [d for d in report.all_dates if not d.two_digit_year]
    for signed, what in found.signed:
        group = [signed, *found.exam]
        conventions = possible_conventions(whole + [signed]) or possible_conventions(group)
        conventions = [c for c in conventions if all(c in d.readings for d in group)]
        if conventions and all(all(signed.readings[c] < e.readings[c] for e in found.exam) for c in conventions):
            exam = found.exam[0]
            evidence = [report.evidence(signed.start, signed.end, rule.id, f"the {what} date"),
                        *(report.evidence(e.start, e.end, rule.id, "the exam date") for e in found.exam)]
            return _flag(rule, evidence, signed=signed.text, what=what, exam=exam.text)
    return None


_CHECKS: dict[str, Callable[[_Report, AnyRule, FlagRules], Flag | None]] = {
    "QC-TBS-CATEGORY-MISMATCH": check_category,  # type: ignore[dict-item]
    "QC-BMI-OUT-OF-RANGE": check_bmi,  # type: ignore[dict-item]
    "QC-FRAX-AGE-RANGE": check_frax_age,  # type: ignore[dict-item]
    "QC-FRAX-TBS-DIRECTION": check_frax_direction,  # type: ignore[dict-item]
    "QC-DATE-ORDER": check_date_order,  # type: ignore[dict-item]
}


def run_checks(result: CheckResult, text: str, rules: FlagRules) -> list[Flag]:
    """Every active rule's flag for one checked report, in the order of the rule file.

    A rule that fails on some odd text is logged (its exception type only: the text may quote the report)
    and skipped: the result and the other flags stand.
    """
    report = _Report(result, text)
    flags = []
    for rule in rules.rules:
        if not rule.active:
            continue
        try:
            flag = _CHECKS[rule.id](report, rule, rules)
        except Exception as exc:  # noqa: BLE001 - a flag must never cost the report its result
            log.error("flag %s failed on %s (%s)", rule.id, result.source or result.id, type(exc).__name__)
            continue
        if flag is not None:
            flags.append(flag)
    return flags
