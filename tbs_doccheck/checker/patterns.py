"""The rule set: loads, strictly validates and freezes every JSON file in ``patterns/``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tbs_doccheck.resources import PatternError, patterns_dir, read_json, validate

__all__ = ["PatternError", "PatternSet", "load_patterns", "patterns_dir"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return value


class RuleMeta(_Strict):
    """Metadata every rule carries: a stable id and an optional one-line reason."""

    id: str = Field(pattern=r"^[A-Z]+(?:-[A-Z0-9]+)+$")
    reason: str | None = None


class _MedspacyRule(_Strict):
    literal: str = Field(min_length=1)
    category: str = Field(min_length=1)
    pattern: str | list[dict[str, Any]] | None = None
    metadata: RuleMeta

    @field_validator("pattern")
    @classmethod
    def _regex_compiles(cls, value: Any) -> Any:
        return _check_regex(value) if isinstance(value, str) else value


class TargetRuleSpec(_MedspacyRule):
    """A medspaCy ``TargetRule`` as stored in ``targets.json``."""

    attributes: dict[str, Any] | None = None


class ContextRuleSpec(_MedspacyRule):
    """A medspaCy ``ConTextRule`` as stored in ``context.json``."""

    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"] = "BIDIRECTIONAL"
    allowed_types: list[str] | None = None
    excluded_types: list[str] | None = None
    max_targets: int | None = Field(default=None, gt=0)
    max_scope: int | None = Field(default=None, gt=0)


class SectionRuleSpec(_MedspacyRule):
    """A medspaCy ``SectionRule`` as stored in ``sections.json``."""

    parents: list[str] | None = None
    parent_required: bool | None = None
    max_scope: int | None = Field(default=None, gt=0)


class RegexRule(_Strict):
    """A plain regular expression rule used by the project's own components."""

    id: str = Field(pattern=r"^[A-Z]+(?:-[A-Z0-9]+)+$")
    literal: str
    pattern: str

    _check = field_validator("pattern")(classmethod(lambda cls, v: _check_regex(v)))

    def compile(self, flags: int = re.IGNORECASE) -> re.Pattern[str]:
        """Compile the pattern (case-insensitive unless told otherwise)."""
        return re.compile(self.pattern, flags)


class TbsValueRules(_Strict):
    """Rules that tie a TBS number to its TBS mention (``tbs_value.json``)."""

    mention: RegexRule
    not_a_value_mention: RegexRule
    region: RegexRule
    value: RegexRule
    #: A dictated number ("one point two five four").
    spelled_value: RegexRule
    gap_stop: RegexRule
    gap_reference: RegexRule
    #: Words that make a number an estimate rather than a measurement ("a TBS around 1.2").
    hypothetical: RegexRule
    #: The same, right after the number ("1.2 would be expected").
    hypothetical_after: RegexRule
    #: The same, in the clause before the TBS word ("one would expect a TBS of 1.2").
    hypothetical_before: RegexRule
    #: A reference value named just before the TBS word ("age-matched TBS 1.285").
    reference_before: RegexRule
    #: A number declared invalid right after it ("1.189 - invalid").
    invalid_after: RegexRule
    #: A dictated correction between two numbers ("1.198 scratch that 1.298").
    correction: RegexRule
    #: A value taken back in the dictation with no number after it ("one point two zero... scratch that.").
    retraction: RegexRule
    #: A switch from an earlier number to the current one ("previously 1.301 in 2023, now 1.255").
    current_switch: RegexRule
    #: A region or year written just before the TBS word ("L1-L4 TBS 1.255").
    lead: RegexRule
    min_value: float
    max_value: float
    max_gap_chars: int = Field(gt=0, le=400)


class SignatureRules(_Strict):
    """Rules for signing statements, signers and report status (``signature.json``)."""

    attestations: list[RegexRule] = Field(min_length=1)
    negations: RegexRule
    #: "Signed in his absence by", "on behalf of", "p.p.": the person named is not the one who signed.
    proxy_markers: RegexRule
    status_not_final: list[RegexRule]
    #: Ids of ``status_not_final`` rules whose words only state the report's status in a sentence about
    #: the report, its signature or its signer (``status_subject``) or on a status line of their own.
    status_contextual: list[str]
    status_subject: RegexRule
    #: A condition ahead of a status word in its clause ("If not approved, …") makes it no status.
    status_conditional: RegexRule
    status_final: RegexRule
    attending_markers: RegexRule
    trainee_markers: RegexRule
    #: The closed list of credentials that qualify a signer (physician, NP, PA).
    credentials_qualified: list[str]
    #: Certification suffixes allowed after a credential in a hyphenated compound ("APRN-BC").
    credential_suffixes: list[str]
    credentials_trainee_excluded: list[str]
    #: Credentials that never qualify, whatever role words follow them (DC, PT, PharmD, BS, DNP alone…).
    credentials_unqualified: list[str]
    #: Known credentials that do not qualify on their own (fellowships, other degrees).
    credentials_other: list[str]
    credentials_staff: list[str]
    roles_qualified: list[str]
    #: Role words that make a signer not a physician, NP or PA ("technologist", "physicist", "nurse").
    roles_unqualified: list[str]
    #: Words that, right before a qualified role, make it another profession ("chiropractic physician").
    role_disqualifiers: list[str]
    #: Words that label a signer's role ("Interpreting", "Reading", "Attending"): never part of a name.
    role_labels: list[str]
    #: Role and label words that are never a signer's name ("Interpreting Radiologist").
    not_name_words: list[str]
    name_particles: list[str]

    @field_validator("status_contextual")
    @classmethod
    def _contextual_ids_exist(cls, value: list[str], info: Any) -> list[str]:
        known = {r.id for r in info.data.get("status_not_final", [])}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"status_contextual names rules that are not in status_not_final: {unknown}")
        return value


class ElementPolicy(_Strict):
    """Which ConText categories and which sections keep a mention from counting for one element."""

    disqualifying_modifiers: list[str]
    excluded_sections: list[str]


class ElementsRules(_Strict):
    """Rules the element decisions use beyond the medspaCy ones (``elements.json``)."""

    placeholder: RegexRule
    risk_qualifier: RegexRule
    source_link: RegexRule
    full_date: RegexRule
    year: RegexRule
    dated_after_value: RegexRule
    checkbox: RegexRule
    unticked_option: RegexRule
    population_statement: RegexRule
    patient_reference: RegexRule
    courtesy: RegexRule
    birth_context: RegexRule
    citation_before: RegexRule
    citation_after: RegexRule
    elements: dict[Literal["imaging_source", "tbs_value", "fracture_risk", "recommendations"], ElementPolicy]
    plan_sections: list[str]


class Manifest(_Strict):
    """Name and version of the pattern set."""

    name: str
    version: str
    description: str = ""


class PatternSet(_Strict):
    """Every rule the checker uses, validated and frozen."""

    manifest: Manifest
    sections: tuple[SectionRuleSpec, ...]
    targets: tuple[TargetRuleSpec, ...]
    context: tuple[ContextRuleSpec, ...]
    tbs_value: TbsValueRules
    signature: SignatureRules
    elements: ElementsRules

    def rule_index(self) -> dict[str, str]:
        """Map every rule id to its readable literal (for ``explain``)."""
        index: dict[str, str] = {}
        for rule in (*self.sections, *self.targets, *self.context):
            index[rule.metadata.id] = rule.literal
        tv = self.tbs_value
        for r in (tv.mention, tv.not_a_value_mention, tv.region, tv.value, tv.gap_stop, tv.gap_reference):
            index[r.id] = r.literal
        sig = self.signature
        for r in (*sig.attestations, sig.negations, *sig.status_not_final, sig.status_final,
                  sig.attending_markers, sig.trainee_markers):
            index[r.id] = r.literal
        el = self.elements
        for r in (el.placeholder, el.risk_qualifier, el.source_link, el.full_date, el.year, el.dated_after_value,
                  el.checkbox):
            index[r.id] = r.literal
        return index


@lru_cache(maxsize=4)
def load_patterns(folder: str | None = None) -> PatternSet:
    """Load and validate the pattern set once per folder.

    Args:
        folder: A folder holding the pattern files; the shipped set when None.

    Returns:
        The frozen, validated :class:`PatternSet`.

    Raises:
        PatternError: A file is missing, not JSON, or breaks the schema; the message names the
            file and the offending key.
    """
    root = Path(folder) if folder else patterns_dir()

    def rules(name: str, key: str, model: type[BaseModel]) -> tuple[Any, ...]:
        data = read_json(root, name)
        if not isinstance(data, dict) or set(data) != {key}:
            raise PatternError(f"P001-invalid-patterns: {root / name}: expected an object with the single key {key!r}")
        return tuple(validate(model, item, f"{root / name}[{i}]") for i, item in enumerate(data[key]))

    pset = PatternSet(
        manifest=validate(Manifest, read_json(root, "manifest.json"), str(root / "manifest.json")),
        sections=rules("sections.json", "section_rules", SectionRuleSpec),
        targets=rules("targets.json", "target_rules", TargetRuleSpec),
        context=rules("context.json", "context_rules", ContextRuleSpec),
        tbs_value=validate(TbsValueRules, read_json(root, "tbs_value.json"), str(root / "tbs_value.json")),
        signature=validate(SignatureRules, read_json(root, "signature.json"), str(root / "signature.json")),
        elements=validate(ElementsRules, read_json(root, "elements.json"), str(root / "elements.json")),
    )
    all_ids = [r.metadata.id for r in (*pset.sections, *pset.targets, *pset.context)]
    dupes = sorted({i for i in all_ids if all_ids.count(i) > 1})
    if dupes:
        raise PatternError(f"P001-invalid-patterns: {root}: duplicate rule ids {dupes}")
    return pset
