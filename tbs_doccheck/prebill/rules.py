"""The pre-bill rules: pure functions over a claim, its related lines and the checked report, each in the registry."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from tbs_doccheck.models import ELEMENT_IDS, CheckResult
from tbs_doccheck.prebill.context import ResolvedLine, RuleContext, own_numbers, refs
from tbs_doccheck.prebill.contract import Provider, ReasonItem
from tbs_doccheck.prebill.data import PrebillRules
from tbs_doccheck.prebill.people import Qualification, classify_credential, classify_taxonomy, same_person
from tbs_doccheck.prebill.registry import rule
from tbs_doccheck.resources import element_catalogue


@rule(
    "PB010-77089-bundled",
    outcome="hold",
    summary="77089 with 77090, 77091 or 77092 on the same claim, or on the same patient's date of service",
    source="CPT parenthetical: do not report 77089 with 77090, 77091 or 77092 (prebill_rules.json: bundling)",
)
def rule_bundled(ctx: RuleContext) -> list[ReasonItem]:
    """PB010: a global code (77089) with any of its components on the same claim or date of service."""
    everything = ctx.lines + ctx.related
    reasons = []
    for bundle in ctx.rules.bundling:
        for glob in (line for line in everything if line.code == bundle.code):
            parts = [
                line
                for line in everything
                if line.code in bundle.not_with and (line.dos == glob.dos or (line.own and glob.own))
            ]
            involved = [glob, *parts]
            if not parts or not any(line.own for line in involved):
                continue
            codes = ", ".join(sorted({p.code for p in parts}))
            reasons.append(
                ReasonItem(
                    rule_id="PB010-77089-bundled",
                    outcome="hold",
                    lines=own_numbers(involved),
                    message=(
                        f"{bundle.code} ({glob.ref}, {glob.dos}) is billed with {codes} ({refs(parts)}). "
                        f"CPT: do not report {bundle.code} with {', '.join(bundle.not_with)}; "
                        "bill either the global code or the components, not both."
                    ),
                )
            )
    return reasons


@rule(
    "PB011-dos-before-2022",
    outcome="hold",
    summary="a TBS line dated before the codes took effect (earliest_date_of_service)",
    source="CPT: 77089-77092 effective 2022-01-01 (prebill_rules.json: earliest_date_of_service)",
)
def rule_dos_before_effective(ctx: RuleContext) -> list[ReasonItem]:
    """PB011: a TBS code dated before the codes took effect."""
    early = [line for line in ctx.tbs_lines if line.dos < ctx.rules.earliest_date_of_service]
    if not early:
        return []
    detail = "; ".join(f"{line.ref} {line.code} on {line.dos}" for line in early)
    return [
        ReasonItem(
            rule_id="PB011-dos-before-2022",
            outcome="hold",
            lines=own_numbers(early),
            message=(
                f"Date of service before {ctx.rules.earliest_date_of_service}, when the TBS codes took effect: "
                f"{detail}. Correct the date of service or the code."
            ),
        )
    ]


@rule(
    "PB012-units-exceed",
    outcome="hold",
    summary="more units of one TBS code on one date of service than the limit",
    source="one TBS exam per date; an MUE of 1 is likely but unconfirmed (prebill_rules.json: units limits)",
)
def rule_units(ctx: RuleContext) -> list[ReasonItem]:
    """PB012: more units of one TBS code on one date of service (across this patient's claims) than allowed."""
    groups: dict[tuple[str, date], list[ResolvedLine]] = defaultdict(list)
    for line in ctx.lines + ctx.related:
        if line.code in ctx.rules.tbs_codes:
            groups[(line.code, line.dos)].append(line)
    reasons = []
    for (code, dos), lines in sorted(groups.items()):
        total, limit = sum(line.units for line in lines), ctx.rules.units_limit(code)
        if total <= limit or not any(line.own for line in lines):
            continue
        reasons.append(
            ReasonItem(
                rule_id="PB012-units-exceed",
                outcome="hold",
                lines=own_numbers(lines),
                message=(
                    f"{code} is billed {total} units on {dos} ({refs(lines)}); the limit is {limit} "
                    "per date of service. Correct the units or remove the duplicate line or claim."
                ),
            )
        )
    return reasons




@rule(
    "PB020-report-missing",
    outcome="hold",
    summary="77092/77089 with no linked report",
    source="CPT 77092/77089: interpretation and report (prebill_rules.json: report_required_codes)",
)
@rule(
    "PB021-report-fails",
    outcome="hold",
    summary="the linked report fails the documentation checker; names the missing elements",
    source="CPT 77092 documentation requirements, as the checker's five elements (shared/spec/elements.md)",
)
@rule(
    "PB023-report-needs-review",
    outcome="review",
    summary="the linked report passes, but a decision in it rests on ambiguous structure (needs_review)",
    source="this tool: a pass the checker flags needs_review is not released unseen (check.review_reasons)",
)
@rule(
    "PB022-report-unreadable",
    outcome="hold",
    summary="the linked report could not be read, or several files match the claim",
    source="this tool: a report that cannot be read cannot support the claim",
)
def rule_report(ctx: RuleContext) -> list[ReasonItem]:
    """PB020/PB021/PB022/PB023: codes that pay for the interpretation need a linked report that passes the checker."""
    if not ctx.report_lines:
        return []
    codes = ctx.report_codes()
    numbers = own_numbers(ctx.report_lines)
    check, problem = ctx.report.check, ctx.report.problem
    if problem is not None or (check is not None and check.verdict == "error"):
        why = problem or f"{check.error_code or 'error'}: {check.error}"  # type: ignore[union-attr]
        return [
            ReasonItem(
                rule_id="PB022-report-unreadable",
                outcome="hold",
                lines=numbers,
                message=(
                    f"The report linked to {codes} could not be read ({why}). "
                    "Link a readable copy of the signed report."
                ),
            )
        ]
    if check is None:
        return [
            ReasonItem(
                rule_id="PB020-report-missing",
                outcome="hold",
                lines=numbers,
                message=(
                    f"Billing {codes} requires the TBS interpretation report, and none is linked to this claim. "
                    "Link the signed report."
                ),
            )
        ]
    if check.verdict == "pass":
        if not check.needs_review:
            return []
        return [
            ReasonItem(
                rule_id="PB023-report-needs-review",
                outcome="review",
                lines=numbers,
                message=(
                    f"The linked report documents {codes}, but a coder should confirm it first: "
                    + "; ".join(check.review_reasons)
                    + ". Release it once confirmed, or query the signer."
                ),
            )
        ]
    missing = [e for e in ELEMENT_IDS if e in check.missing] or list(check.missing)
    catalogue = element_catalogue()
    detail = "; ".join(
        f"{e} ({catalogue.entry(e).prebill_wording if e in catalogue.by_id else e})" for e in missing
    ) or "see check.elements"
    status = f" Signature status: {check.signature_status}." if check.signature_status else ""
    return [
        ReasonItem(
            rule_id="PB021-report-fails",
            outcome="hold",
            lines=numbers,
            message=(
                f"The linked report does not document {codes}: missing {detail}.{status} "
                "Amend (and sign) the report before billing; check.elements shows the evidence."
            ),
        )
    ]


def _signer_matches(provider: Provider, check: CheckResult | None, rules: PrebillRules) -> bool:
    return bool(
        check and check.signer and provider.entity == "person" and same_person(check.signer.name, provider.name, rules)
    )


def _provider_label(provider: Provider) -> str:
    bits = [provider.name]
    if provider.credential:
        bits.append(provider.credential)
    label = ", ".join(bits)
    return f"{label} (taxonomy {provider.taxonomy})" if provider.taxonomy else label


@rule(
    "PB030-provider-not-qualified",
    outcome="hold",
    summary="the 77092/77089 rendering provider is clinical staff, by credential or NUCC taxonomy",
    source="CPT: physician or other qualified health care professional; NUCC taxonomy (prebill_rules.json)",
)
@rule(
    "PB031-provider-unverified",
    outcome="review",
    summary="the rendering provider's qualification cannot be confirmed (none named, unknown credential, organisation)",
    source="CPT: physician or other qualified health care professional; NUCC taxonomy (prebill_rules.json)",
)
def rule_provider(ctx: RuleContext) -> list[ReasonItem]:
    """PB030/PB031: the rendering provider of 77092/77089 must be a physician or other qualified professional.

    Judged by credential and NUCC taxonomy; any evidence of clinical-staff status
    holds the claim. When the claim gives neither but the report's signer is the
    rendering provider, the signer's credential stands in for the missing one.
    """
    codes = ctx.report_codes()
    by_provider: dict[Provider | None, list[ResolvedLine]] = defaultdict(list)
    for line in ctx.report_lines:
        by_provider[line.provider].append(line)
    reasons = []
    for provider, lines in by_provider.items():
        numbers = own_numbers(lines)
        if provider is None:
            reasons.append(
                ReasonItem(
                    rule_id="PB031-provider-unverified",
                    outcome="review",
                    lines=numbers,
                    message=f"No rendering provider is given for {codes}; name the interpreting professional.",
                )
            )
            continue
        reason = _judge_provider(provider, _provider_verdicts(provider, ctx), codes, numbers)
        if reason is not None:
            reasons.append(reason)
    return reasons


def _provider_verdicts(provider: Provider, ctx: RuleContext) -> set[Qualification]:
    """What the provider's credential (or, lacking one, the matching signer's) and taxonomy say of them."""
    credential = provider.credential
    if credential is None and _signer_matches(provider, ctx.report.check, ctx.rules):
        credential = ctx.report.check.signer.credential  # type: ignore[union-attr]
    verdicts = {classify_credential(credential, ctx.rules), classify_taxonomy(provider.taxonomy, ctx.rules)}
    if provider.entity == "organization":
        # A practice's taxonomy says what it does, not who interpreted this study.
        verdicts.discard("qualified")
    return verdicts


def _judge_provider(
    provider: Provider, verdicts: set[Qualification], codes: str, numbers: list[int]
) -> ReasonItem | None:
    """PB030 when any evidence says clinical staff, PB031 when nothing says qualified, else None."""
    label = _provider_label(provider)
    if "unqualified" in verdicts:
        return ReasonItem(
            rule_id="PB030-provider-not-qualified",
            outcome="hold",
            lines=numbers,
            message=(
                f"Rendering provider {label} is clinical staff, not a physician or other qualified "
                f"health care professional; {codes} must be billed under the professional who "
                "interpreted and signed the report."
            ),
        )
    if "qualified" not in verdicts:
        if provider.entity == "organization":
            why = f"the claim names the organisation {label} as rendering provider"
        else:
            why = f"no recognised credential or NUCC taxonomy is given for {label}"
        return ReasonItem(
            rule_id="PB031-provider-unverified",
            outcome="review",
            lines=numbers,
            message=(
                f"Cannot confirm a qualified professional rendered {codes}: {why}. "
                "Confirm the interpreting professional's credential before release."
            ),
        )
    return None


@rule(
    "PB040-signer-mismatch",
    outcome="review",
    summary="the report is signed by someone other than the rendering provider",
    source="CPT 77092: reported by the professional who interpreted the study",
)
def rule_signer(ctx: RuleContext) -> list[ReasonItem]:
    """PB040: the report's signer should be the rendering provider billed for the interpretation."""
    check = ctx.report.check
    if check is None or check.signer is None:
        return []
    signer = check.signer
    signed_by = f"{signer.name}, {signer.credential}" if signer.credential else signer.name
    reasons = []
    seen: set[Provider] = set()
    for line in ctx.report_lines:
        provider = line.provider
        # Organisations and absent providers are PB031's business; a person is comparable.
        if provider is None or provider.entity != "person" or provider in seen:
            continue
        seen.add(provider)
        if same_person(signer.name, provider.name, ctx.rules):
            continue
        numbers = own_numbers([x for x in ctx.report_lines if x.provider == provider])
        reasons.append(
            ReasonItem(
                rule_id="PB040-signer-mismatch",
                outcome="review",
                lines=numbers,
                message=(
                    f"The report is signed by {signed_by}, but {line.code} is billed under {provider.name}. "
                    "Bill under the signing professional, or confirm the rendering provider interpreted the study."
                ),
            )
        )
    return reasons
