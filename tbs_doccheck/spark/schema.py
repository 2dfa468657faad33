"""The flat result schema of the Spark engine: its columns, their Spark types, and one result turned into a row."""

from __future__ import annotations

import json
import re
from typing import Any

from tbs_doccheck.models import ELEMENT_IDS, CheckResult

__all__ = [
    "AUDIT_COLUMNS",
    "RESULT_COLUMNS",
    "audit_ddl",
    "result_ddl",
    "result_row",
    "utf8_safe",
]

# Arrow (and so Spark) strings must be valid UTF-8; a file name that is not UTF-8 reaches Python as lone
# surrogates (PEP 383), and so can a JSON input's "\ud800" escape.
_SURROGATES = re.compile("[\ud800-\udfff]")


def _element_columns() -> list[tuple[str, str, str]]:
    columns = []
    for element in ELEMENT_IDS:
        columns.append((f"{element}_satisfied", "boolean", f"Whether {element} is documented; null on error rows"))
        columns.append((f"{element}_reason", "string", f"Why {element} is or is not met; null on error rows"))
    return columns


#: The columns of :func:`tbs_doccheck.spark.check_dataframe`, in order: (name, Spark SQL type, meaning).
RESULT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "string", "The input row's id column, as a string"),
    ("verdict", "string", "pass, fail or error"),
    ("missing", "array<string>", "The unmet elements, in the order imaging_source ... signature"),
    *_element_columns(),
    ("tbs_value", "double", "The current TBS value found, if any"),
    ("tbs_region", "string", "Its region (L1-L4...), if stated"),
    ("signer_name", "string", "Who signed the report, if found"),
    ("signer_credential", "string", "The signer's credential (MD, NP...), if stated"),
    ("signature_status", "string", "final, preliminary, pending, unsigned, draft or staff-only"),
    ("needs_review", "boolean", "Some decision rests on ambiguous structure: a pass is not to be released unseen"),
    ("review_reasons", "array<string>", "Why a person should look, in plain words"),
    ("evidence", "string",
     'JSON: {element: {"evidence": [...], "rejected": [...]}} with each quote\'s text, offsets and rule; '
     "null on error rows"),
    ("error_code", "string", "E003-empty, E004-too-large, E099-internal-error... on error rows"),
    ("error_message", "string", "Why the row could not be checked; never quotes the report"),
    ("tool_version", "string", "tbs-doccheck's version"),
    ("patterns_version", "string", "The pattern set's version"),
    ("result_json", "string", "The whole result exactly as `check --format jsonl` writes it"),
)

#: The columns of the Parquet table ``audit --engine spark`` writes: the file and the report's place in it, then
#: :data:`RESULT_COLUMNS`.
AUDIT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("source", "string", "The file the report was read from (a name that is not UTF-8 shows U+FFFD)"),
    ("position", "int", "1-based position of the report inside a file holding several (HL7, FHIR Bundle)"),
    *RESULT_COLUMNS,
)


def _ddl(columns: tuple[tuple[str, str, str], ...]) -> str:
    # Backquoted: a DDL string is parsed, and a column name must never be read as a keyword.
    return ", ".join(f"`{name}` {kind}" for name, kind, _ in columns)


def result_ddl() -> str:
    """The Spark DDL schema of :data:`RESULT_COLUMNS` (``mapInPandas`` takes it as is)."""
    return _ddl(RESULT_COLUMNS)


def audit_ddl() -> str:
    """The Spark DDL schema of :data:`AUDIT_COLUMNS`."""
    return _ddl(AUDIT_COLUMNS)


def utf8_safe(value: str | None) -> str | None:
    """``value`` with lone surrogates as U+FFFD, so Arrow can carry it; None stays None."""
    if value is None or not _SURROGATES.search(value):
        return value
    return _SURROGATES.sub("\ufffd", value)


def result_row(result: CheckResult, result_json: str) -> dict[str, Any]:
    """One result as a row of :data:`RESULT_COLUMNS`.

    Args:
        result: The checker's result.
        result_json: The result's JSON line (``check --format jsonl``), made once by the caller, which also
            writes it elsewhere.

    Returns:
        Column name to value; every string is valid UTF-8.
    """
    row: dict[str, Any] = {
        "id": utf8_safe(result.id),
        "verdict": result.verdict,
        "missing": list(result.missing),
    }
    for element in ELEMENT_IDS:
        found = result.elements.get(element)
        row[f"{element}_satisfied"] = found.satisfied if found else None
        row[f"{element}_reason"] = utf8_safe(found.reason) if found else None
    evidence = None
    if result.elements:
        evidence = json.dumps(
            {
                element: {
                    "evidence": [e.model_dump(mode="json") for e in found.evidence],
                    "rejected": [e.model_dump(mode="json") for e in found.rejected],
                }
                for element, found in result.elements.items()
            },
            ensure_ascii=False,
        )
    row.update(
        tbs_value=result.tbs_value,
        tbs_region=utf8_safe(result.tbs_region),
        signer_name=utf8_safe(result.signer.name) if result.signer else None,
        signer_credential=utf8_safe(result.signer.credential) if result.signer else None,
        signature_status=result.signature_status,
        needs_review=result.needs_review,
        review_reasons=[utf8_safe(reason) for reason in result.review_reasons],
        evidence=evidence,
        error_code=result.error_code.value if result.error_code else None,
        error_message=utf8_safe(result.error),
        tool_version=result.tool_version,
        patterns_version=result.patterns_version,
        result_json=result_json,
    )
    return row
