"""The claim edits a scrubber applies to 77089-77092: modifiers, dates, companion codes and payer coverage.

Pure functions over the rule context, each declared in the registry; the data they read
(PC/TC status, exclusive pairs, DXA codes, the payer coverage table) is in ``prebill_rules.json``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from tbs_doccheck.prebill.context import ResolvedLine, RuleContext, own_numbers, refs
from tbs_doccheck.prebill.contract import Payer, ReasonItem
from tbs_doccheck.prebill.registry import rule

_PART = {"professional": "professional-only", "technical": "technical-only"}

#: What each code says was done, for messages about codes that exclude each other.
_CODE_MEANS = {
    "77089": "calculation, interpretation and report",
    "77090": "data prepared and sent elsewhere for the calculation",
    "77091": "the calculation done here",
    "77092": "interpretation and report only",
}

_COVERAGE_WORDS = {"not_covered": "not covered", "investigational": "investigational"}


@rule(
    "PB013-modifier-invalid",
    outcome="hold",
    summary="modifier 26 or TC on a professional-only (77092) or technical-only (77090, 77091) TBS code",
    source="Medicare Physician Fee Schedule PC/TC indicators (prebill_rules.json: pc_tc_status, component_modifiers)",
)
def rule_component_modifier(ctx: RuleContext) -> list[ReasonItem]:
    """PB013: 26 and TC split a global code (77089); on a code that is already one part they are invalid.

    ``77089-26`` or ``77089-TC`` is valid here; billed with 77092 (or 77090/77091) it is
    still PB010's bundling conflict.
    """
    split = {m.upper() for m in ctx.rules.component_modifiers}
    status = ctx.rules.pc_tc_status
    bad = [line for line in ctx.tbs_lines if status.get(line.code, "global") != "global" and split & {*line.modifiers}]
    if not bad:
        return []
    detail = "; ".join(
        f"{line.ref} {line.code}-{'-'.join(m for m in line.modifiers if m in split)} "
        f"({line.code} is {_PART[status[line.code]]})"
        for line in bad
    )
    globals_ = ", ".join(sorted(code for code, part in status.items() if part == "global")) or "a global code"
    return [
        ReasonItem(
            rule_id="PB013-modifier-invalid",
            outcome="hold",
            lines=own_numbers(bad),
            message=(
                f"Invalid component modifier: {detail}. Modifiers {' and '.join(sorted(split))} split only a global "
                f"code ({globals_}); a professional-only or technical-only code already names its part. "
                "Remove the modifier."
            ),
        )
    ]


@rule(
    "PB014-dos-in-future",
    outcome="hold",
    summary="a TBS line dated after today (the run's date; prebill --today or the service's today setting)",
    source="a service is billed after it is performed: a date of service cannot lie in the future",
)
def rule_dos_in_future(ctx: RuleContext) -> list[ReasonItem]:
    """PB014: a TBS line whose date of service is after ``ctx.today``."""
    late = [line for line in ctx.tbs_lines if line.dos > ctx.today]
    if not late:
        return []
    detail = "; ".join(f"{line.ref} {line.code} on {line.dos}" for line in late)
    return [
        ReasonItem(
            rule_id="PB014-dos-in-future",
            outcome="hold",
            lines=own_numbers(late),
            message=(
                f"Date of service after today ({ctx.today}): {detail}. A service is billed once performed; "
                "correct the date of service, or hold the claim until the service has taken place."
            ),
        )
    ]


@rule(
    "PB015-77090-with-77091",
    outcome="review",
    summary="77090 and 77091 for one patient and date of service: the data were sent elsewhere or calculated here",
    source="CPT descriptors of 77090 and 77091 (prebill_rules.json: mutually_exclusive)",
)
def rule_exclusive_codes(ctx: RuleContext) -> list[ReasonItem]:
    """PB015: codes that exclude each other for one study (77090, 77091) for one patient on one date."""
    reasons = []
    for codes in ctx.rules.mutually_exclusive:
        by_date: dict[date, list[ResolvedLine]] = defaultdict(list)
        for line in ctx.lines + ctx.related:
            if line.code in codes:
                by_date[line.dos].append(line)
        for dos, lines in sorted(by_date.items()):
            present = sorted({line.code for line in lines})
            if len(present) < 2 or not any(line.own for line in lines):
                continue
            means = "; ".join(f"{code}: {_CODE_MEANS[code]}" for code in present if code in _CODE_MEANS)
            reasons.append(
                ReasonItem(
                    rule_id="PB015-77090-with-77091",
                    outcome="review",
                    lines=own_numbers(lines),
                    message=(
                        f"{' and '.join(present)} are both billed for this patient on {dos} ({refs(lines)})"
                        f"{f': {means}' if means else ''}. One study's TBS is produced one way only: "
                        "confirm where the TBS was calculated and remove the other code."
                    ),
                )
            )
    return reasons


@rule(
    "PB016-calculation-without-dxa",
    outcome="review",
    summary="77089/77091 with no same-day DXA code (77080, 77081, 77085, 77086) for the patient, on the claim or batch",
    source="CPT: the TBS is calculated from the patient's DXA data (prebill_rules.json: imaging_required_codes)",
)
def rule_calculation_without_dxa(ctx: RuleContext) -> list[ReasonItem]:
    """PB016: a TBS calculation with no DXA study for the same patient and date, on this claim or a related one."""
    imaging = ctx.rules.imaging_codes
    imaged = {line.dos for line in ctx.lines + ctx.related if line.code in imaging}
    alone = [line for line in ctx.lines if line.code in ctx.rules.imaging_required_codes and line.dos not in imaged]
    if not alone:
        return []
    detail = "; ".join(f"{line.ref} {line.code} on {line.dos}" for line in alone)
    return [
        ReasonItem(
            rule_id="PB016-calculation-without-dxa",
            outcome="review",
            lines=own_numbers(alone),
            message=(
                f"A TBS calculation is billed with no DXA study ({', '.join(imaging)}) for this patient on the "
                f"same day ({detail}), neither on this claim nor on the patient's other claims reviewed with it. "
                "Payers deny a stand-alone TBS calculation: add the DXA line, or confirm the DXA for that date "
                "is billed on another claim."
            ),
        )
    ]


def _payer_label(payer: Payer) -> str:
    if payer.name and payer.id:
        return f"{payer.name} ({payer.id})"
    return payer.name or payer.id or ""


@rule(
    "PB050-payer-not-covered",
    outcome="hold",
    summary="a TBS line for a payer listed as not covering TBS (not covered, investigational) with no acknowledging "
    "modifier",
    source="the billing team's payer coverage table, from each payer's policy (prebill_rules.json: payer_coverage)",
)
def rule_payer_coverage(ctx: RuleContext) -> list[ReasonItem]:
    """PB050: the coverage table says the claim's payer does not cover TBS, and no line modifier acknowledges it.

    The payer is looked up by id, then by name (``claim.payer``; from an 837, loop
    2010BB NM1*PR). A line carrying one of the entry's acknowledging modifiers (GA,
    GZ, GX, or the payer's equivalent) passes: the patient was told, or the denial is expected.
    """
    payer = ctx.claim.payer
    entry = ctx.rules.payer_policy(payer.id, payer.name) if payer is not None else None
    if payer is None or entry is None or entry.coverage == "covered":
        return []
    acknowledged = {m.upper() for m in entry.acknowledging_modifiers}
    codes = entry.codes or ctx.rules.tbs_codes
    bare = [line for line in ctx.tbs_lines if line.code in codes and not acknowledged & set(line.modifiers)]
    if not bare:
        return []
    detail = ", ".join(f"{line.code} ({line.ref})" for line in bare)
    said = f"Payer {_payer_label(payer)} treats TBS as {_COVERAGE_WORDS[entry.coverage]} (payer coverage entry "
    if acknowledged:
        fix = (
            f"{detail} carries none of the modifiers that acknowledge it ({', '.join(entry.acknowledging_modifiers)}). "
            "Add the one that matches the notice given to the patient, or do not bill this payer for TBS."
        )
    else:
        fix = f"no modifier acknowledges it, and {detail} is billed. Do not bill this payer for TBS."
    return [
        ReasonItem(
            rule_id="PB050-payer-not-covered",
            outcome="hold",
            lines=own_numbers(bare),
            message=f'{said}"{entry.policy}"): {fix}',
        )
    ]
