"""The data behind the pre-bill rules (``patterns/prebill_rules.json``): codes, limits, credentials, taxonomy."""

from __future__ import annotations

import functools
import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from tbs_doccheck.checker.patterns import patterns_dir
from tbs_doccheck.prebill.contract import _Out

RULES_FILE = "prebill_rules.json"


def norm_cred(text: str) -> str:
    """``R.T.(R)(BD)`` -> ``RT``, ``m.d.`` -> ``MD``, ``pa-c`` -> ``PA-C``.

    Parenthesised ARRT discipline suffixes say which registry, not whether the
    person is clinical staff, so they are dropped.
    """
    text = re.sub(r"\([^)]*\)", "", text)
    return re.sub(r"[.\s]", "", text).upper()


# --------------------------------------------------------------------------------------------
# The rule data
# --------------------------------------------------------------------------------------------


class BundlingRule(_Out):
    """A global code that must never be billed with its components."""

    code: str
    not_with: list[str] = Field(min_length=1)


PcTcStatus = Literal["global", "professional", "technical"]
Coverage = Literal["covered", "not_covered", "investigational"]


def norm_payer_name(name: str) -> str:
    """``Acme Health Plan, Inc.`` -> ``acme health plan inc``: case and punctuation do not tell payers apart."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", name.casefold()).split())


class PayerPolicy(_Out):
    """One row of the payer coverage table a billing team keeps: how a payer treats TBS, and what acknowledges it."""

    policy: str = Field(min_length=1, description="What the billing team calls the entry, e.g. the policy number")
    payer_ids: list[str] = Field(default_factory=list, description="Payer ids as sent (837 NM109 of NM1*PR)")
    payer_names: list[str] = Field(default_factory=list, description="Names, compared without case or punctuation")
    coverage: Coverage
    acknowledging_modifiers: list[str] = Field(
        default_factory=list, description="Modifiers that acknowledge the non-coverage (e.g. GA, GZ, GX)"
    )
    codes: list[str] | None = Field(default=None, description="The TBS codes the entry is about; all when absent")

    @model_validator(mode="after")
    def _names_a_payer(self) -> PayerPolicy:
        if not any(i.strip() for i in self.payer_ids) and not any(norm_payer_name(n) for n in self.payer_names):
            raise ValueError(f"payer coverage entry {self.policy!r} names no payer id or name")
        return self


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
    pc_tc_status: dict[str, PcTcStatus] = Field(default_factory=dict)
    component_modifiers: list[str] = Field(default_factory=list)
    mutually_exclusive: list[Annotated[list[str], Field(min_length=2)]] = Field(default_factory=list)
    imaging_required_codes: list[str] = Field(default_factory=list)
    imaging_codes: list[str] = Field(default_factory=list)
    payer_coverage: list[PayerPolicy] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> PrebillRules:
        tbs = set(self.tbs_codes)
        stray = set(self.report_required_codes) - tbs
        for rule in self.bundling:
            stray |= ({rule.code} | set(rule.not_with)) - tbs
        stray |= set(self.units_limit_overrides) - tbs
        stray |= (set(self.pc_tc_status) | set(self.imaging_required_codes)) - tbs
        for codes in [*self.mutually_exclusive, *(p.codes or [] for p in self.payer_coverage)]:
            stray |= set(codes) - tbs
        if stray:
            raise ValueError(f"codes not listed in tbs_codes: {sorted(stray)}")
        if set(self.imaging_codes) & tbs:
            raise ValueError(f"imaging_codes are the DXA codes, not TBS codes: {sorted(set(self.imaging_codes) & tbs)}")
        self._check_payers_listed_once()
        both = {norm_cred(c) for c in self.qualified_credentials} & {
            norm_cred(c) for c in self.unqualified_credentials
        }
        if both:
            raise ValueError(f"credentials listed as both qualified and unqualified: {sorted(both)}")
        return self

    def _check_payers_listed_once(self) -> None:
        seen: dict[str, str] = {}
        for entry in self.payer_coverage:
            keys = {f"id {i.strip().upper()}" for i in entry.payer_ids if i.strip()}
            keys |= {f"name {norm_payer_name(n)}" for n in entry.payer_names if norm_payer_name(n)}
            for key in sorted(keys):
                if key in seen:
                    raise ValueError(f"payer {key} is in two payer coverage entries: {seen[key]!r}, {entry.policy!r}")
                seen[key] = entry.policy

    def payer_policy(self, payer_id: str | None, payer_name: str | None) -> PayerPolicy | None:
        """The coverage entry for a payer: by id first, then by name; None when the table does not list it."""
        if payer_id and payer_id.strip():
            wanted = payer_id.strip().upper()
            for entry in self.payer_coverage:
                if any(i.strip().upper() == wanted for i in entry.payer_ids):
                    return entry
        name = norm_payer_name(payer_name or "")
        if name:
            for entry in self.payer_coverage:
                if any(norm_payer_name(n) == name for n in entry.payer_names):
                    return entry
        return None

    def units_limit(self, code: str) -> int:
        """The most units of ``code`` allowed on one date of service for one patient."""
        return self.units_limit_overrides.get(code, self.units_limit_per_date_of_service)

    @functools.cached_property
    def _qualified(self) -> frozenset[str]:
        return frozenset(norm_cred(c) for c in self.qualified_credentials)

    @functools.cached_property
    def _unqualified(self) -> frozenset[str]:
        return frozenset(norm_cred(c) for c in self.unqualified_credentials)

    @functools.cached_property
    def _name_noise(self) -> frozenset[str]:
        words = [
            *self.qualified_credentials,
            *self.unqualified_credentials,
            *self.other_credentials,
            *self.name_suffixes,
        ]
        return frozenset(norm_cred(w) for w in words)

    @functools.cached_property
    def _honorifics(self) -> frozenset[str]:
        return frozenset(norm_cred(w) for w in self.name_honorifics)


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
