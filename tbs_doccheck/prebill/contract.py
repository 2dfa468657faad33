"""The claim contract billing systems send for pre-bill review, and the decision they get back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

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

from tbs_doccheck.models import CheckResult

Outcome = Literal["release", "hold", "review"]
#: A decision's value: an outcome, or ``error`` for a claim that could not be read into the contract (PB090).
DecisionValue = Literal["release", "hold", "review", "error"]


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


class Payer(_Contract):
    """Who the claim is sent to (an 837's loop 2010BB NM1*PR): looked up in the payer coverage table."""

    id: StrictStr | None = Field(default=None, min_length=1, description="The payer id, e.g. NM109 of NM1*PR")
    name: StrictStr | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _id_or_name(self) -> Payer:
        if self.id is None and self.name is None:
            raise ValueError('payer must carry "id" or "name"')
        return self


class Claim(_Contract):
    """A claim as billing systems hand it over for pre-bill review."""

    claim_id: StrictStr = Field(min_length=1)
    patient_id: StrictStr | None = None
    date_of_service: IsoDate | None = None
    lines: list[ClaimLine] = Field(min_length=1)
    rendering_provider: Provider | None = None
    report: ReportRef | None = None
    payer: Payer | None = None

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


_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """``("lines", 0, "units")`` -> ``lines.1.units``: list positions count from 1, as a decision's ``lines`` do."""
    return ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in loc) or "claim"


def error_message(error: Mapping[str, Any]) -> str:
    """Pydantic's message for one error without its "Value error, " prefix (the words of our own validators)."""
    msg = str(error.get("msg", ""))
    for prefix in _PYDANTIC_PREFIXES:
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def invalid_lines(exc: ValidationError) -> list[int]:
    """The 1-based claim lines a validation error is about."""
    return sorted({
        loc[1] + 1 for e in exc.errors()
        if len(loc := e["loc"]) > 1 and loc[0] == "lines" and isinstance(loc[1], int)
    })


def describe_validation_error(exc: ValidationError) -> str:
    """``lines.1.units: Input should be a valid integer; …``: where (lines counted from 1) and what, never the value.

    Pydantic's own message carries each bad ``input``, which could put report text in a log.
    """
    return "; ".join(f"{field_path(e['loc'])}: {error_message(e)}" for e in exc.errors())


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

    claim_id: str = Field(description="The claim's id; as far as it could be read for a claim in error")
    decision: DecisionValue = Field(
        description="release, hold or review; error when the claim could not be read into the claim contract "
        "(reason PB090-claim-invalid: correct the claim data and send it again)"
    )
    reasons: list[ReasonItem]
    check: CheckResult | None = Field(
        default=None, description="The documentation checker's result when a linked report was checked"
    )
    versions: Versions
