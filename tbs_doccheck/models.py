"""The pydantic vocabulary every surface shares: report inputs, evidence, element results, verdicts, audit totals."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

_SURROGATES = re.compile("[\ud800-\udfff]")

ElementId = Literal["imaging_source", "tbs_value", "fracture_risk", "recommendations", "signature"]

#: The five documentation elements, in the order every renderer shows them.
ELEMENT_IDS: tuple[ElementId, ...] = (
    "imaging_source",
    "tbs_value",
    "fracture_risk",
    "recommendations",
    "signature",
)

Verdict = Literal["pass", "fail", "error"]


class ErrorCode(StrEnum):
    """Stable codes for inputs the checker could not read.

    The code is the contract; the message beside it may be reworded.
    """

    NOT_FOUND = "E001-not-found"
    PERMISSION = "E002-permission-denied"
    EMPTY = "E003-empty"
    TOO_LARGE = "E004-too-large"
    BINARY = "E005-binary"
    UNDECODABLE = "E006-undecodable-text"
    CORRUPT_DOCX = "E010-corrupt-docx"
    CORRUPT_PDF = "E011-corrupt-pdf"
    NO_TEXT_LAYER = "E012-pdf-no-text-layer"
    ENCRYPTED_PDF = "E013-pdf-encrypted"
    CORRUPT_RTF = "E014-corrupt-rtf"
    BAD_HL7 = "E020-invalid-hl7"
    BAD_JSON = "E030-invalid-json"
    BAD_FHIR = "E031-invalid-fhir"
    NO_REPORT_TEXT = "E032-no-report-text"
    SYMLINK_LOOP = "E040-symlink-loop"
    UNSUPPORTED = "E041-unsupported-type"
    INTERNAL = "E099-internal-error"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReadError(_Frozen):
    """Why an input could not be turned into report text.

    Messages name the file and the problem, never the file's contents.
    """

    code: ErrorCode
    message: str


class ReportInput(_Frozen):
    """One report handed to the checker: its text, or the error that kept us from reading it."""

    id: str
    text: str | None = None
    source: str | None = None
    position: int | None = Field(
        default=None, description="1-based position of this report inside a file holding several"
    )
    error: ReadError | None = None


class Evidence(_Frozen):
    """Words in the report that decided (or were rejected for) an element.

    Invariant: ``report_text[start:end] == text``.
    """

    text: str
    start: int
    end: int
    section: str | None = None
    rule_id: str
    reason: str = ""

    @field_serializer("text", when_used="json")
    def _json_safe(self, text: str) -> str:
        # A lone surrogate cannot be written as UTF-8 JSON; the Python value keeps it exactly.
        return _SURROGATES.sub("\ufffd", text)


class ElementResult(_Frozen):
    """Whether one documentation element is satisfied, why, and the words that show it."""

    satisfied: bool
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)
    rejected: list[Evidence] = Field(
        default_factory=list,
        description="Mentions that looked relevant but do not count (negated, prior, placeholder...)",
    )
    needs_review: bool = Field(
        default=False, description="The decision rests on ambiguous structure: a coder should look before billing"
    )


class Requirement(_Frozen):
    """One of the four CPT 77092 documentation requirements."""

    id: str
    title: str
    satisfied: bool
    elements: list[ElementId]
    reason: str


class Signer(_Frozen):
    """The person whose signing statement satisfies (or was judged for) the signature element."""

    name: str
    credential: str | None = None


class Flag(_Frozen):
    """A clinical consistency flag: the report contradicts itself or a tool it quotes. Never changes the verdict."""

    id: str = Field(description="Stable rule id, e.g. QC-DATE-ORDER (see patterns/flags.json)")
    severity: Literal["info", "warning"]
    message: str
    evidence: list[Evidence] = Field(default_factory=list)


class CheckResult(_Frozen):
    """The checker's answer for one report. Field names are a contract other tools read."""

    id: str
    source: str | None = None
    position: int | None = None
    verdict: Verdict
    error: str | None = None
    error_code: ErrorCode | None = None
    elements: dict[ElementId, ElementResult] = Field(default_factory=dict)
    requirements: list[Requirement] = Field(default_factory=list)
    missing: list[ElementId] = Field(default_factory=list)
    tbs_value: float | None = None
    tbs_region: str | None = None
    signer: Signer | None = None
    signature_status: str | None = Field(
        default=None, description="final, preliminary, pending, unsigned, draft or staff-only"
    )
    needs_review: bool = Field(
        default=False,
        description="Some decision rests on ambiguous structure; the verdict stands, but a pass is not released unseen",
    )
    review_reasons: list[str] = Field(default_factory=list, description="Why a person should look, in plain words")
    tool_version: str
    patterns_version: str
    flags: list[Flag] = Field(default_factory=list, description="Clinical consistency flags; never change the verdict")


class SignerStats(BaseModel):
    """How one signer's reports fared."""

    reports: int = 0
    failed: int = 0


class AuditSummary(BaseModel):
    """Totals of one audit, as written to ``summary.json``."""

    paths: list[str]
    out_dir: str
    files: int = Field(description="Input files read (supported types, including unreadable ones)")
    reports: int = Field(description="Results: one per report, so a file holding several counts several times")
    passed: int
    failed: int
    errors: int
    needs_review: int = Field(default=0, description="Readable reports flagged needs_review (passes among them are "
                              "not to be released unseen)")
    flags_by_id: dict[str, int] = Field(default_factory=dict, description="Consistency flags raised, per flag id")
    pass_rate: float | None = Field(description="passed / reports (unreadable reports count as not passing)")
    missing_by_element: dict[ElementId, int] = Field(description="Failed reports missing each element")
    errors_by_code: dict[str, int]
    skipped: list[str] = Field(description="Files passed over: not a supported report type, or an audit's own output")
    by_signer: dict[str, SignerStats] = Field(description="Readable reports per signer, most failures first")
    versions: dict[str, str]
    workers: int
    resumed: bool
    resumed_files: int = Field(description="Files whose results came from the journal of an earlier, interrupted run")
    started_at: str
    finished_at: str
    elapsed_seconds: float = Field(description="Wall time of this run (not of an interrupted earlier one)")
    files_per_second: float | None = Field(description="Files checked by this run per second of its wall time")
