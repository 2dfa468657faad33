"""What a pre-bill rule sees: the claim's lines with dates and providers resolved, related lines, the checked report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from tbs_doccheck.models import CheckResult
from tbs_doccheck.prebill.contract import Claim, Provider
from tbs_doccheck.prebill.data import PrebillRules

# --------------------------------------------------------------------------------------------
# What a rule sees: the claim's lines resolved, the same patient's other lines, the checked report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedLine:
    """A claim line with its effective date and provider resolved."""

    claim_id: str
    own: bool  # on the claim being decided (not a related claim); ids alone may repeat in a batch
    number: int
    code: str
    units: int
    dos: date
    provider: Provider | None
    modifiers: tuple[str, ...] = ()  # upper-cased

    @property
    def ref(self) -> str:
        return f"line {self.number}" if self.own else f"claim {self.claim_id} line {self.number}"


@dataclass(frozen=True)
class LinkedReport:
    """What became of the claim's linked report."""

    check: CheckResult | None = None
    problem: str | None = None  # why the report could not be had (ambiguous or unreadable link)


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at. Rules read it and return reasons; they do no I/O."""

    claim: Claim
    rules: PrebillRules
    lines: tuple[ResolvedLine, ...]
    related: tuple[ResolvedLine, ...]  # lines of other claims for the same patient
    report: LinkedReport
    today: date = field(default_factory=date.today)  # dates of service after it are in the future

    @property
    def tbs_lines(self) -> tuple[ResolvedLine, ...]:
        return tuple(line for line in self.lines if line.code in self.rules.tbs_codes)

    @property
    def report_lines(self) -> tuple[ResolvedLine, ...]:
        return tuple(line for line in self.lines if line.code in self.rules.report_required_codes)

    def report_codes(self) -> str:
        return "/".join(sorted({line.code for line in self.report_lines}))


def lines_of(claim: Claim, *, own: bool) -> tuple[ResolvedLine, ...]:
    out = []
    for number, line in enumerate(claim.lines, 1):
        dos = line.date_of_service or claim.date_of_service
        assert dos is not None  # the Claim validator guarantees every line is dated
        provider = line.rendering_provider or claim.rendering_provider
        modifiers = tuple(m.upper() for m in line.modifiers)
        out.append(ResolvedLine(claim.claim_id, own, number, line.code, line.units, dos, provider, modifiers))
    return tuple(out)


def refs(lines: Sequence[ResolvedLine]) -> str:
    return ", ".join(line.ref for line in lines)


def own_numbers(lines: Sequence[ResolvedLine]) -> list[int]:
    return sorted({line.number for line in lines if line.own})
