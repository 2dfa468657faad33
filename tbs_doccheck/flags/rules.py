"""The flag rules as data: ``patterns/flags.json``, read strictly; each rule with its id, wording, values and source."""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tbs_doccheck.resources import PatternError, patterns_dir, read_json, validate

FLAGS_FILE = "flags.json"

FlagId = Literal[
    "QC-TBS-CATEGORY-MISMATCH", "QC-BMI-OUT-OF-RANGE", "QC-FRAX-AGE-RANGE", "QC-FRAX-TBS-DIRECTION", "QC-DATE-ORDER"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryScheme(_Strict):
    """One published set of TBS category cut-points."""

    id: str
    literal: str
    degraded_at_or_below: float = Field(gt=0.5, lt=2.0)
    normal_above: float = Field(gt=0.5, lt=2.0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> CategoryScheme:
        if self.degraded_at_or_below >= self.normal_above:
            raise ValueError("degraded_at_or_below must be below normal_above")
        return self


class _Rule(_Strict):
    """What every rule carries: a stable id, its wording, and the source it rests on."""

    literal: str = Field(min_length=1)
    description: str = Field(min_length=1)
    severity: Literal["info", "warning"]
    message: str = Field(min_length=1, description="str.format template; the fields each rule fills are fixed")
    source: str = Field(min_length=1)
    source_status: Literal["confirmed", "unconfirmed"] = Field(
        description="Only a confirmed rule fires: a rule whose source is uncertain never does"
    )

    #: The fields the rule's code fills into ``message``.
    message_fields: ClassVar[frozenset[str]] = frozenset()

    @property
    def active(self) -> bool:
        """Whether the rule may fire."""
        return self.source_status == "confirmed"

    @model_validator(mode="after")
    def _message_fields(self) -> _Rule:
        used = {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(self.message) if name}
        unknown = used - self.message_fields
        if unknown:
            raise ValueError(f"message uses {sorted(unknown)}; this rule fills {sorted(self.message_fields)}")
        return self


class CategoryRule(_Rule):
    id: Literal["QC-TBS-CATEGORY-MISMATCH"]
    message_fields: ClassVar[frozenset[str]] = frozenset({"value", "stated", "why"})


class BmiRule(_Rule):
    id: Literal["QC-BMI-OUT-OF-RANGE"]
    bmi_min: float = Field(gt=0)
    bmi_max: float = Field(gt=0)
    caveat_patterns: tuple[str, ...]
    message_fields: ClassVar[frozenset[str]] = frozenset({"value", "bmi", "bmi_min", "bmi_max"})

    @field_validator("caveat_patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"caveat pattern {pattern!r} does not compile: {exc}") from None
        return patterns

    @property
    def caveats(self) -> re.Pattern[str]:
        """The caveat patterns as one case-insensitive regex."""
        return _alternation(self.caveat_patterns)


class FraxAgeRule(_Rule):
    id: Literal["QC-FRAX-AGE-RANGE"]
    age_min: int = Field(ge=0)
    age_max: int = Field(ge=0)
    message_fields: ClassVar[frozenset[str]] = frozenset({"frax", "age", "age_min", "age_max"})


class FraxDirectionRule(_Rule):
    id: Literal["QC-FRAX-TBS-DIRECTION"]
    low_tbs_at_most: float = Field(gt=0.5, lt=2.0)
    high_tbs_at_least: float = Field(gt=0.5, lt=2.0)
    skip_above_age: int | None = None
    message_fields: ClassVar[frozenset[str]] = frozenset(
        {"outcome", "adjusted", "unadjusted", "moved", "value", "zone"}
    )


class DateOrderRule(_Rule):
    id: Literal["QC-DATE-ORDER"]
    message_fields: ClassVar[frozenset[str]] = frozenset({"signed", "what", "exam"})


AnyRule = Annotated[CategoryRule | BmiRule | FraxAgeRule | FraxDirectionRule | DateOrderRule, Field(discriminator="id")]


class FlagRules(_Strict):
    """The whole file: version, the TBS category schemes, and one entry per flag id."""

    version: str
    description: str = ""
    tbs_category_schemes: tuple[CategoryScheme, ...] = Field(min_length=1)
    rules: tuple[AnyRule, ...]

    @model_validator(mode="after")
    def _one_each(self) -> FlagRules:
        ids = [r.id for r in self.rules]
        expected = set(FlagId.__args__)  # type: ignore[attr-defined]
        if len(ids) != len(set(ids)) or set(ids) != expected:
            raise ValueError(f"rules must hold each of {sorted(expected)} exactly once, got {ids}")
        return self

    def rule(self, flag_id: str) -> AnyRule:
        """The rule with this id (KeyError when there is none)."""
        for r in self.rules:
            if r.id == flag_id:
                return r
        raise KeyError(flag_id)


@lru_cache(maxsize=32)
def _alternation(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)", re.IGNORECASE)


def read_flag_rules(folder: str | Path | None = None) -> FlagRules:
    """``flags.json`` from ``folder`` (the shipped ``patterns/`` when None), validated.

    Raises:
        PatternError: The file is missing, not JSON, or breaks the schema.
    """
    where = Path(folder) if folder is not None else patterns_dir()
    return validate(FlagRules, read_json(where, FLAGS_FILE), str(where / FLAGS_FILE))


@lru_cache(maxsize=1)
def flag_rules() -> FlagRules:
    """The shipped rules, read once per process."""
    return read_flag_rules()


__all__ = ["FLAGS_FILE", "FlagId", "FlagRules", "PatternError", "flag_rules", "read_flag_rules"]
