"""The query wording as data (``patterns/query_templates.json``), read strictly and held to compliant-query practice.

The loader refuses wording that a compliant query must not carry (AHIMA/ACDIS, Guidelines for Achieving a
Compliant Query Practice): any mention of payment, reimbursement, billing or an amount of money; and it refuses
an element whose options lack "Other" or "Unable to determine".
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tbs_doccheck.models import ELEMENT_IDS, ElementId
from tbs_doccheck.resources import patterns_dir, read_json, validate

TEMPLATES_FILE = "query_templates.json"

#: A currency amount: "$120", "120 EUR", "45 dollars"...
_MONEY = (
    r"[$\u00a3\u20ac\u00a5][ ]?\d{1,12}(?:[.,]\d{1,3}){0,4}|\b\d{1,12}(?:[.,]\d{1,3}){0,4}[ ]?[$\u00a3\u20ac\u00a5]"
    r"|\b(?:USD|EUR|GBP|CAD|AUD)[ ]?\d{1,12}(?:[.,]\d{1,3}){0,4}"
    r"|\b\d{1,12}(?:[.,]\d{1,3})?[ ]?(?:USD|EUR|GBP|dollars?|euros?|pounds[ ]sterling|cents?)\b"
)
#: What no query may say: money, payment, reimbursement, billing, revenue or quality scoring.
NOT_IN_A_QUERY = re.compile(
    r"\bpay(?:s|ing|ment|ments|er|ers|able)?\b|\bpaid\b|reimburs\w{0,8}|\bbill(?:s|ed|ing|able)?\b|\brevenue\b"
    r"|\bfinancial\w{0,4}|\bDRG\b|\bquality[ ](?:score|measure|rating)s?\b|[$\u00a3\u20ac\u00a5]|" + _MONEY,
    re.IGNORECASE,
)
#: What is cut from a quote taken from a report: payment words and amounts (a name such as "Bill" stays).
_NOT_IN_A_QUOTE = re.compile(r"\bpay(?:ment|ments|able)\b|reimburs\w{0,8}|" + _MONEY, re.IGNORECASE)
#: Placeholders each field may use.
_FIELDS: dict[str, frozenset[str]] = {
    "staff_only_note": frozenset({"signer"}),
    "report_heading": frozenset({"n", "count", "report_id"}),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ElementQuery(_Strict):
    """How to ask about one missing element."""

    context: tuple[ElementId, ...] = Field(
        default=(), description="Elements whose evidence is quoted too, as the clinical setting of the question"
    )
    finding: str = Field(min_length=1)
    question: str = Field(min_length=1)
    options: tuple[str, ...] = Field(min_length=3)

    @model_validator(mode="after")
    def _open_options(self) -> ElementQuery:
        lowered = [o.lower() for o in self.options]
        if not any(o.startswith("other") for o in lowered):
            raise ValueError("options must include an 'Other' option")
        if not any("unable to determine" in o for o in lowered):
            raise ValueError("options must include 'Unable to determine'")
        return self


class ReportFields(_Strict):
    source: str
    position: str
    exam_date: str
    report_id: str
    status: str


class QueryTemplates(_Strict):
    """All the wording of a query letter."""

    version: str
    practice: str = ""
    title: str
    from_line: str
    no_signer_addressee: str
    staff_only_note: str
    intro: tuple[str, ...]
    report_heading: str
    report_fields: ReportFields
    exam_date_unknown: str
    finding_label: str
    indicators_label: str
    no_indicators: str
    found_prefix: str
    rejected_prefix: str
    context_prefix: str
    question_label: str
    options_label: str
    response_line: str
    closing: tuple[str, ...]
    changed_since_audit: str
    elements: dict[ElementId, ElementQuery]

    @model_validator(mode="after")
    def _compliant(self) -> QueryTemplates:
        missing = [e for e in ELEMENT_IDS if e not in self.elements]
        if missing:
            raise ValueError(f"elements lacks {missing}")
        for where, text in _texts(self.model_dump(exclude={"practice", "version"})):
            hit = NOT_IN_A_QUERY.search(text)
            if hit:
                raise ValueError(f"{where}: a compliant query never mentions {hit.group()!r} (payment or money)")
        for name, allowed in _FIELDS.items():
            used = {f for _, f, _, _ in string.Formatter().parse(getattr(self, name)) if f}
            if used - allowed:
                raise ValueError(f"{name} uses {sorted(used - allowed)}; it may use {sorted(allowed)}")
        return self


def _texts(value: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _texts(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list | tuple):
        return [t for i, v in enumerate(value) for t in _texts(v, f"{where}[{i}]")]
    return []


def read_templates(folder: str | Path | None = None) -> QueryTemplates:
    """``query_templates.json`` from ``folder`` (the shipped ``patterns/`` when None), validated."""
    where = Path(folder) if folder is not None else patterns_dir()
    return validate(QueryTemplates, read_json(where, TEMPLATES_FILE), str(where / TEMPLATES_FILE))


@lru_cache(maxsize=1)
def query_templates() -> QueryTemplates:
    """The shipped templates, read once."""
    return read_templates()


def redact(text: str) -> str:
    """``text`` with anything no query may carry replaced by ``[omitted]`` (for quotes taken from a report)."""
    return _NOT_IN_A_QUOTE.sub("[omitted]", text)
