"""Pre-bill review of TBS claims (CPT 77089-77092): the claim contract, the rule data and the rule engine."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from tbs_doccheck._version import __version__
from tbs_doccheck.checker.patterns import patterns_dir
from tbs_doccheck.models import ELEMENT_IDS, CheckResult, ReportInput
from tbs_doccheck.readers.core import read_path

if TYPE_CHECKING:
    from tbs_doccheck.checker.core import Checker

Outcome = Literal["release", "hold", "review"]

RULES_FILE = "prebill_rules.json"


# --------------------------------------------------------------------------------------------
# The claim contract (other tools write it: unknown keys are ignored, known ones are typed strictly)
# --------------------------------------------------------------------------------------------


def _iso_date(value: object) -> object:
    """Accept a ``date`` or an ISO ``YYYY-MM-DD`` string, nothing looser.

    Pydantic's lax date parsing would take Unix timestamps and datetimes; a claim
    date that arrives as either is a contract violation, not something to guess at.
    """
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("date must be written YYYY-MM-DD")
        return date.fromisoformat(value.strip())
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class _Contract(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, str_strip_whitespace=True)


class Provider(_Contract):
    """The professional (or, from an 837 without one, the billing organisation) a line is billed under."""

    name: StrictStr = Field(min_length=1)
    credential: StrictStr | None = None
    npi: StrictStr | None = Field(default=None, pattern=r"^\d{10}$")
    taxonomy: StrictStr | None = Field(
        default=None, description="NUCC health care provider taxonomy code, e.g. 2085R0202X"
    )
    entity: Literal["person", "organization"] = "person"

    @field_validator("taxonomy")
    @classmethod
    def _taxonomy_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        # Shape only: the IG's own examples carry codes NUCC never issued (203BF0100Y), and a
        # taxonomy the rules do not recognise is judged "unknown", not rejected.
        if not re.fullmatch(r"[0-9A-Z]{10}", value):
            raise ValueError("a NUCC taxonomy code is 10 letters or digits, e.g. 2085R0202X")
        return value


class ClaimLine(_Contract):
    """One service line: a procedure code, its units and modifiers, and optionally its own date and provider."""

    code: StrictStr = Field(min_length=1)
    units: StrictInt = Field(ge=1)
    modifiers: list[StrictStr] = Field(default_factory=list)
    date_of_service: IsoDate | None = Field(
        default=None, description="Overrides the claim's date_of_service for this line"
    )
    rendering_provider: Provider | None = Field(
        default=None, description="Overrides the claim's rendering_provider for this line"
    )

    @field_validator("code")
    @classmethod
    def _upper_code(cls, value: str) -> str:
        return value.upper()


class ReportRef(_Contract):
    """The report linked to a claim: its text, or a path to a file in any format the audit reads."""

    text: StrictStr | None = None
    path: StrictStr | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReportRef:
        if (self.text is None) == (self.path is None):
            raise ValueError('report must carry exactly one of "text" or "path"')
        return self


class Claim(_Contract):
    """A claim as billing systems hand it over for pre-bill review."""

    claim_id: StrictStr = Field(min_length=1)
    patient_id: StrictStr | None = None
    date_of_service: IsoDate | None = None
    lines: list[ClaimLine] = Field(min_length=1)
    rendering_provider: Provider | None = None
    report: ReportRef | None = None

    @model_validator(mode="after")
    def _every_line_dated(self) -> Claim:
        if self.date_of_service is None:
            undated = [i for i, line in enumerate(self.lines, 1) if line.date_of_service is None]
            if undated:
                raise ValueError(
                    "no date_of_service on the claim nor on line(s) "
                    + ", ".join(str(i) for i in undated)
                )
        return self


def describe_validation_error(exc: ValidationError) -> str:
    """``lines.0.units: Input should be a valid integer; …``: where and what, never the value.

    Pydantic's own message carries each bad ``input``, which could put report text in a log.
    """
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'claim'}: {e['msg']}" for e in exc.errors())


# --------------------------------------------------------------------------------------------
# The decision
# --------------------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReasonItem(_Out):
    """One rule that fired (or, for a release, why the claim may go): stable id, what it means, what to do."""

    rule_id: str
    outcome: Outcome
    message: str
    lines: list[int] = Field(default_factory=list, description="1-based claim lines the reason is about")


class Versions(_Out):
    """What produced a decision, so a billing system can tell which rules it was judged by."""

    tool: str
    prebill_rules: str
    checker_patterns: str | None = None


class Decision(_Out):
    """The pre-bill answer for one claim. Field names are a contract billing systems read."""

    claim_id: str
    decision: Outcome
    reasons: list[ReasonItem]
    check: CheckResult | None = Field(
        default=None, description="The documentation checker's result when a linked report was checked"
    )
    versions: Versions


# --------------------------------------------------------------------------------------------
# The rule data
# --------------------------------------------------------------------------------------------


class BundlingRule(_Out):
    """A global code that must never be billed with its components."""

    code: str
    not_with: list[str] = Field(min_length=1)


class PrebillRules(_Out):
    """The data behind every pre-bill rule (``patterns/prebill_rules.json``)."""

    version: str
    tbs_codes: list[str] = Field(min_length=1)
    report_required_codes: list[str]
    bundling: list[BundlingRule]
    earliest_date_of_service: date
    units_limit_per_date_of_service: int = Field(ge=1)
    units_limit_overrides: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    qualified_credentials: list[str]
    unqualified_credentials: list[str]
    other_credentials: list[str] = Field(default_factory=list)
    name_honorifics: list[str] = Field(default_factory=list)
    name_suffixes: list[str] = Field(default_factory=list)
    qualified_taxonomy_prefixes: list[str]
    unqualified_taxonomy_prefixes: list[str]
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> PrebillRules:
        tbs = set(self.tbs_codes)
        stray = set(self.report_required_codes) - tbs
        for rule in self.bundling:
            stray |= ({rule.code} | set(rule.not_with)) - tbs
        stray |= set(self.units_limit_overrides) - tbs
        if stray:
            raise ValueError(f"codes not listed in tbs_codes: {sorted(stray)}")
        both = {_norm_cred(c) for c in self.qualified_credentials} & {
            _norm_cred(c) for c in self.unqualified_credentials
        }
        if both:
            raise ValueError(f"credentials listed as both qualified and unqualified: {sorted(both)}")
        return self

    def units_limit(self, code: str) -> int:
        """The most units of ``code`` allowed on one date of service for one patient."""
        return self.units_limit_overrides.get(code, self.units_limit_per_date_of_service)

    @functools.cached_property
    def _qualified(self) -> frozenset[str]:
        return frozenset(_norm_cred(c) for c in self.qualified_credentials)

    @functools.cached_property
    def _unqualified(self) -> frozenset[str]:
        return frozenset(_norm_cred(c) for c in self.unqualified_credentials)

    @functools.cached_property
    def _name_noise(self) -> frozenset[str]:
        words = [
            *self.qualified_credentials,
            *self.unqualified_credentials,
            *self.other_credentials,
            *self.name_suffixes,
        ]
        return frozenset(_norm_cred(w) for w in words)

    @functools.cached_property
    def _honorifics(self) -> frozenset[str]:
        return frozenset(_norm_cred(w) for w in self.name_honorifics)


@functools.cache
def load_prebill_rules(path: Path | None = None) -> PrebillRules:
    """Load and validate the pre-bill rule data.

    Args:
        path: A rules file to use instead of the packaged ``prebill_rules.json``.

    Returns:
        The validated rules (cached per path).

    Raises:
        FileNotFoundError: No rules file where expected.
        tbs_doccheck.checker.patterns.PatternError: No ``patterns/`` folder, packaged or in the source tree.
        pydantic.ValidationError: The file has unknown keys, wrong types or inconsistent codes.
    """
    source = path or patterns_dir() / RULES_FILE
    return PrebillRules.model_validate(json.loads(source.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------
# Who may report: credentials, taxonomy codes, names
# --------------------------------------------------------------------------------------------

Qualification = Literal["qualified", "unqualified", "unknown"]


def _norm_cred(text: str) -> str:
    """``R.T.(R)(BD)`` -> ``RT``, ``m.d.`` -> ``MD``, ``pa-c`` -> ``PA-C``.

    Parenthesised ARRT discipline suffixes say which registry, not whether the
    person is clinical staff, so they are dropped.
    """
    text = re.sub(r"\([^)]*\)", "", text)
    return re.sub(r"[.\s]", "", text).upper()


def classify_credential(credential: str | None, rules: PrebillRules) -> Qualification:
    """Judge a credential string such as ``"MD"``, ``"R.T.(R)(BD), CBDT"`` or ``"Scribe"``.

    Any qualified credential wins: a physician who also holds a technologist's
    registry is still a physician.

    Args:
        credential: The credential text, possibly several separated by commas or slashes.
        rules: The rule data.

    Returns:
        ``qualified``, ``unqualified``, or ``unknown`` when nothing is recognised.
    """
    if not credential:
        return "unknown"
    tokens: set[str] = set()
    for part in re.split(r"[,;/&]", credential):
        tokens.add(_norm_cred(part))
        tokens.update(_norm_cred(word) for word in part.split())
    if tokens & rules._qualified:
        return "qualified"
    if tokens & rules._unqualified:
        return "unqualified"
    return "unknown"


def classify_taxonomy(taxonomy: str | None, rules: PrebillRules) -> Qualification:
    """Judge a NUCC taxonomy code by its prefix (``20…`` physicians, ``2471…`` radiologic technologists…).

    Args:
        taxonomy: The 10-character NUCC code, or None.
        rules: The rule data.

    Returns:
        ``qualified``, ``unqualified`` or ``unknown``.
    """
    if not taxonomy:
        return "unknown"
    code = taxonomy.upper()
    if any(code.startswith(p) for p in rules.unqualified_taxonomy_prefixes):
        return "unqualified"
    if any(code.startswith(p) for p in rules.qualified_taxonomy_prefixes):
        return "qualified"
    return "unknown"


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def name_tokens(name: str, rules: PrebillRules | None = None) -> tuple[str, ...]:
    """Reduce a person's name to comparable tokens in first…last order.

    Handles case, accents, punctuation, ``Last, First`` order, honorifics,
    credentials and suffixes (``Smith, Harold J., M.D.`` -> ``("harold", "j", "smith")``).
    A trailing token is only stripped as a credential while two tokens remain,
    so surnames such as *Do* or *Ma* survive.

    Args:
        name: The name as written on the claim or in the signing statement.
        rules: The rule data (credential and honorific lists); the packaged rules when None.

    Returns:
        The name's tokens, lower-cased, without punctuation.
    """
    rules = rules or load_prebill_rules()
    noise, honorifics = rules._name_noise, rules._honorifics

    def is_noise(part: str) -> bool:
        return _norm_cred(part) in noise or all(_norm_cred(w) in noise for w in part.split())

    parts = [p for p in (p.strip() for p in name.split(",")) if p]
    if not parts:
        return ()
    # Parts after the first that hold only credentials or suffixes ("Smith, Harold, MD, PhD") are not names.
    kept = [parts[0]] + [p for p in parts[1:] if not is_noise(p)]
    if len(kept) >= 2:  # "Last, First Middle" -> "First Middle Last"
        kept = kept[1:] + kept[:1]
    # Credentials are judged on whole words ("M.D.", "PA-C") before punctuation splits them.
    words = [w for part in kept for w in part.split()]
    while words and _norm_cred(words[0]) in honorifics:
        words.pop(0)
    while len(words) > 2 and _norm_cred(words[-1]) in noise:
        words.pop()
    tokens = [t for w in words for t in re.split(r"[-.]+", _fold(w).replace("'", "")) if t]
    return tuple(tokens)


def same_person(a: str, b: str, rules: PrebillRules | None = None) -> bool:
    """Whether two written names plausibly name the same person.

    Last names must agree; first names must agree or one must be the other's
    initial. Middle names and initials are ignored. A name without its comma
    may still be in ``Last First`` order (``Smith Harold J``), so that reading
    is tried too. A one-word name cannot be confirmed and never matches.

    Args:
        a: One name (e.g. the report's signer).
        b: The other (e.g. the claim's rendering provider).
        rules: The rule data; the packaged rules when None.

    Returns:
        True when the names match under these rules.
    """
    ta, tb = name_tokens(a, rules), name_tokens(b, rules)
    if len(ta) < 2 or len(tb) < 2:
        return False

    def readings(t: tuple[str, ...]) -> set[tuple[str, str]]:  # (first, last)
        return {(t[0], t[-1]), (t[1], t[0])}

    def firsts_agree(x: str, y: str) -> bool:
        return x == y or ((len(x) == 1 or len(y) == 1) and x[0] == y[0])

    return any(
        la == lb and firsts_agree(fa, fb) for fa, la in readings(ta) for fb, lb in readings(tb)
    )


# --------------------------------------------------------------------------------------------
# The rules: pure functions over a claim, its related lines, and the checked report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """A claim line with its effective date and provider resolved."""

    claim_id: str
    own: bool  # on the claim being decided (not a related claim); ids alone may repeat in a batch
    number: int
    code: str
    units: int
    dos: date
    provider: Provider | None

    @property
    def ref(self) -> str:
        return f"line {self.number}" if self.own else f"claim {self.claim_id} line {self.number}"


@dataclass(frozen=True)
class _Report:
    """What became of the claim's linked report."""

    check: CheckResult | None = None
    problem: str | None = None  # why the report could not be had (ambiguous or unreadable link)


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at. Rules read it and return reasons; they do no I/O."""

    claim: Claim
    rules: PrebillRules
    lines: tuple[_Line, ...]
    related: tuple[_Line, ...]  # lines of other claims for the same patient
    report: _Report

    @property
    def tbs_lines(self) -> tuple[_Line, ...]:
        return tuple(line for line in self.lines if line.code in self.rules.tbs_codes)

    @property
    def report_lines(self) -> tuple[_Line, ...]:
        return tuple(line for line in self.lines if line.code in self.rules.report_required_codes)

    def report_codes(self) -> str:
        return "/".join(sorted({line.code for line in self.report_lines}))


def _lines_of(claim: Claim, *, own: bool) -> tuple[_Line, ...]:
    out = []
    for number, line in enumerate(claim.lines, 1):
        dos = line.date_of_service or claim.date_of_service
        assert dos is not None  # the Claim validator guarantees every line is dated
        provider = line.rendering_provider or claim.rendering_provider
        out.append(_Line(claim.claim_id, own, number, line.code, line.units, dos, provider))
    return tuple(out)


def _refs(lines: Sequence[_Line]) -> str:
    return ", ".join(line.ref for line in lines)


def _own_numbers(lines: Sequence[_Line]) -> list[int]:
    return sorted({line.number for line in lines if line.own})


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
                    lines=_own_numbers(involved),
                    message=(
                        f"{bundle.code} ({glob.ref}, {glob.dos}) is billed with {codes} ({_refs(parts)}). "
                        f"CPT: do not report {bundle.code} with {', '.join(bundle.not_with)}; "
                        "bill either the global code or the components, not both."
                    ),
                )
            )
    return reasons


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
            lines=_own_numbers(early),
            message=(
                f"Date of service before {ctx.rules.earliest_date_of_service}, when the TBS codes took effect: "
                f"{detail}. Correct the date of service or the code."
            ),
        )
    ]


def rule_units(ctx: RuleContext) -> list[ReasonItem]:
    """PB012: more units of one TBS code on one date of service (across this patient's claims) than allowed."""
    groups: dict[tuple[str, date], list[_Line]] = defaultdict(list)
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
                lines=_own_numbers(lines),
                message=(
                    f"{code} is billed {total} units on {dos} ({_refs(lines)}); the limit is {limit} "
                    "per date of service. Correct the units or remove the duplicate line or claim."
                ),
            )
        )
    return reasons


_ELEMENT_WHAT = {
    "imaging_source": "the imaging study (DXA) whose data gave the TBS",
    "tbs_value": "a numeric TBS from the current study",
    "fracture_risk": "an assessment of this patient's fracture risk",
    "recommendations": "a recommendation or plan",
    "signature": "the final signature of a qualified professional",
}


def rule_report(ctx: RuleContext) -> list[ReasonItem]:
    """PB020/PB021/PB022: codes that pay for the interpretation need a linked report that passes the checker."""
    if not ctx.report_lines:
        return []
    codes = ctx.report_codes()
    numbers = _own_numbers(ctx.report_lines)
    check, problem = ctx.report.check, ctx.report.problem
    if problem is not None or (check is not None and check.verdict == "error"):
        why = problem or f"{check.error_code or 'error'}: {check.error}"  # type: ignore[union-attr]
        return [
            ReasonItem(
                rule_id="PB022-report-unreadable",
                outcome="hold",
                lines=numbers,
                message=f"The report linked to {codes} could not be read ({why}). Link a readable copy of the signed report.",
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
        return []
    missing = [e for e in ELEMENT_IDS if e in check.missing] or list(check.missing)
    detail = "; ".join(f"{e} ({_ELEMENT_WHAT.get(e, e)})" for e in missing) or "see check.elements"
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


def rule_provider(ctx: RuleContext) -> list[ReasonItem]:
    """PB030/PB031: the rendering provider of 77092/77089 must be a physician or other qualified professional.

    Judged by credential and NUCC taxonomy; any evidence of clinical-staff status
    holds the claim. When the claim gives neither but the report's signer is the
    rendering provider, the signer's credential stands in for the missing one.
    """
    codes = ctx.report_codes()
    by_provider: dict[Provider | None, list[_Line]] = defaultdict(list)
    for line in ctx.report_lines:
        by_provider[line.provider].append(line)
    reasons = []
    for provider, lines in by_provider.items():
        numbers = _own_numbers(lines)
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
        credential = provider.credential
        if credential is None and _signer_matches(provider, ctx.report.check, ctx.rules):
            credential = ctx.report.check.signer.credential  # type: ignore[union-attr]
        verdicts = {classify_credential(credential, ctx.rules), classify_taxonomy(provider.taxonomy, ctx.rules)}
        if provider.entity == "organization":
            # A practice's taxonomy says what it does, not who interpreted this study.
            verdicts.discard("qualified")
        label = _provider_label(provider)
        if "unqualified" in verdicts:
            reasons.append(
                ReasonItem(
                    rule_id="PB030-provider-not-qualified",
                    outcome="hold",
                    lines=numbers,
                    message=(
                        f"Rendering provider {label} is clinical staff, not a physician or other qualified "
                        f"health care professional; {codes} must be billed under the professional who "
                        "interpreted and signed the report."
                    ),
                )
            )
        elif "qualified" not in verdicts:
            if provider.entity == "organization":
                why = f"the claim names the organisation {label} as rendering provider"
            else:
                why = f"no recognised credential or NUCC taxonomy is given for {label}"
            reasons.append(
                ReasonItem(
                    rule_id="PB031-provider-unverified",
                    outcome="review",
                    lines=numbers,
                    message=(
                        f"Cannot confirm a qualified professional rendered {codes}: {why}. "
                        "Confirm the interpreting professional's credential before release."
                    ),
                )
            )
    return reasons


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
        numbers = _own_numbers([x for x in ctx.report_lines if x.provider == provider])
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


#: Every reason id, the outcome it carries and what it means. Ids are a contract billing
#: systems branch on: never renumber or reuse one, only add.
RULE_IDS: dict[str, tuple[Outcome, str]] = {
    "PB001-out-of-scope": ("release", "no 77089-77092 line on the claim: the TBS rules do not apply"),
    "PB002-rules-passed": ("release", "the claim carries TBS codes and every rule passed"),
    "PB010-77089-bundled": (
        "hold",
        "77089 with 77090, 77091 or 77092 on the same claim, or on the same patient's date of service",
    ),
    "PB011-dos-before-2022": ("hold", "a TBS line dated before the codes took effect (earliest_date_of_service)"),
    "PB012-units-exceed": ("hold", "more units of one TBS code on one date of service than the limit"),
    "PB020-report-missing": ("hold", "77092/77089 with no linked report"),
    "PB021-report-fails": ("hold", "the linked report fails the documentation checker; names the missing elements"),
    "PB022-report-unreadable": ("hold", "the linked report could not be read, or several files match the claim"),
    "PB030-provider-not-qualified": (
        "hold",
        "the 77092/77089 rendering provider is clinical staff, by credential or NUCC taxonomy",
    ),
    "PB031-provider-unverified": (
        "review",
        "the rendering provider's qualification cannot be confirmed (none named, unknown credential, an organisation)",
    ),
    "PB040-signer-mismatch": ("review", "the report is signed by someone other than the rendering provider"),
    "PB090-claim-invalid": ("hold", "a claim (e.g. one CLM of an 837) could not be read into the claim contract"),
}
OUT_OF_SCOPE, RULES_PASSED, CLAIM_INVALID = "PB001-out-of-scope", "PB002-rules-passed", "PB090-claim-invalid"

#: The rules, in evaluation order (the order reasons are listed in).
RULES: tuple[Callable[[RuleContext], list[ReasonItem]], ...] = (
    rule_bundled,
    rule_dos_before_effective,
    rule_units,
    rule_report,
    rule_provider,
    rule_signer,
)


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
) -> _Report:
    ref = claim.report
    if report_text is None and ref is not None:
        report_text = ref.text
    if report_text is not None:
        if not report_text.strip():
            return _Report()  # an empty text is no report at all
        return _Report(check=(checker or _shared_checker()).check_text(report_text, report_id=claim.claim_id))
    if ref is not None and ref.path is not None:
        path = Path(ref.path)
    else:
        matches = find_report_file(reports_dir, claim.claim_id) if reports_dir is not None else []
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches)
            return _Report(problem=f"{len(matches)} files match claim {claim.claim_id}: {names}; keep one")
        if not matches:
            return _Report()
        path = matches[0]
    linked = _read_linked(path, claim.claim_id)
    if isinstance(linked, str):
        return _Report(problem=linked)
    return _Report(check=(checker or _shared_checker()).check_input(linked))


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
            the lines of those for the same patient count for the bundling and units rules.
        rules: Rule data overriding the packaged ``prebill_rules.json``.

    Returns:
        The decision: hold if any rule holds, else review if any asks for review, else release.

    Raises:
        pydantic.ValidationError: ``claim`` does not follow the claim contract.
    """
    claim = claim if isinstance(claim, Claim) else Claim.model_validate(claim)
    rules = rules or load_prebill_rules()
    versions = Versions(tool=__version__, prebill_rules=rules.version)
    lines = _lines_of(claim, own=True)
    if not any(line.code in rules.tbs_codes for line in lines):
        reason = ReasonItem(
            rule_id=OUT_OF_SCOPE,
            outcome="release",
            message=f"No TBS line ({', '.join(rules.tbs_codes)}) on this claim; the TBS pre-bill rules do not apply.",
        )
        return Decision(claim_id=claim.claim_id, decision="release", reasons=[reason], versions=versions)

    report = _resolve_report(claim, report_text, reports_dir, checker) if _needs_report(claim, rules) else _Report()
    # Identity, not claim id: a batch holding the same claim twice must still see the duplicate.
    same_patient = [
        other
        for other in related
        if other is not claim and claim.patient_id is not None and other.patient_id == claim.patient_id
    ]
    ctx = RuleContext(
        claim=claim,
        rules=rules,
        lines=lines,
        related=tuple(line for other in same_patient for line in _lines_of(other, own=False)),
        report=report,
    )
    reasons = [reason for rule in RULES for reason in rule(ctx)]
    if not reasons:
        codes = ", ".join(sorted({line.code for line in ctx.tbs_lines}))
        documented = " and the linked report documents all five elements" if report.check else ""
        reasons = [
            ReasonItem(
                rule_id=RULES_PASSED,
                outcome="release",
                message=f"{codes}: every TBS pre-bill rule passed{documented}.",
            )
        ]
    check = report.check
    if check is not None:
        versions = versions.model_copy(update={"checker_patterns": check.patterns_version})
    return Decision(
        claim_id=claim.claim_id, decision=_verdict(reasons), reasons=reasons, check=check, versions=versions
    )


def invalid_claim_decision(claim_id: str, problem: str, *, rules: PrebillRules | None = None) -> Decision:
    """A hold for a claim that could not be read into the claim contract (e.g. one bad CLM in an 837).

    Args:
        claim_id: The claim's id as far as it could be read.
        problem: What was wrong, naming fields and segments, never report text.
        rules: Rule data (for its version); the packaged rules when None.

    Returns:
        A ``hold`` decision with reason ``PB090-claim-invalid``.
    """
    rules = rules or load_prebill_rules()
    reason = ReasonItem(
        rule_id=CLAIM_INVALID,
        outcome="hold",
        message=f"The claim could not be read for pre-bill review: {problem}. Correct the claim data.",
    )
    return Decision(
        claim_id=claim_id,
        decision="hold",
        reasons=[reason],
        versions=Versions(tool=__version__, prebill_rules=rules.version),
    )


def prebill_many(
    claims: Sequence[Claim],
    *,
    checker: Checker | None = None,
    reports_dir: Path | None = None,
    rules: PrebillRules | None = None,
) -> list[Decision]:
    """Decide a batch of claims, each seeing the others for the same patient (bundling, units).

    Args:
        claims: The claims, e.g. every CLM of an 837 file.
        checker: The documentation checker; the process-wide one when None.
        reports_dir: Where to look up each claim's report by claim id.
        rules: Rule data overriding the packaged file.

    Returns:
        One decision per claim, in order.
    """
    return [
        prebill(claim, checker=checker, reports_dir=reports_dir, related=claims, rules=rules) for claim in claims
    ]
