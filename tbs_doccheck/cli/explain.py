"""The ``explain`` command: what any id a user meets means (element, rule, pre-bill reason, error code, flag)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer

from tbs_doccheck.cli.exit_codes import fail
from tbs_doccheck.models import ELEMENT_IDS, ErrorCode

#: What each error code of an unreadable input means, and what to do about it.
ERROR_MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.NOT_FOUND: "The file does not exist (or is a symlink to a missing file). Check the path.",
    ErrorCode.PERMISSION: "The file or a folder above it cannot be read with this user's permissions.",
    ErrorCode.EMPTY: "The file holds no report text (zero bytes, only whitespace, or a document with no text).",
    ErrorCode.TOO_LARGE: "The file is over the size limit (5 MiB unless --max-bytes says otherwise) and was not "
    "read: reports are small, so it is more likely a wrong file.",
    ErrorCode.BINARY: "The file holds binary data, not text, although its name says text (a scan or an "
    "export in another format renamed?).",
    ErrorCode.UNDECODABLE: "The text cannot be decoded: a byte-order mark promises an encoding the bytes do "
    "not follow.",
    ErrorCode.CORRUPT_DOCX: "The .docx file is not a readable Word document (truncated, not a zip, or a zip "
    "bomb refused).",
    ErrorCode.CORRUPT_PDF: "The .pdf file cannot be parsed (truncated or damaged).",
    ErrorCode.NO_TEXT_LAYER: "The PDF has no text layer (a scanned image): run OCR first, or export the report "
    "as text.",
    ErrorCode.ENCRYPTED_PDF: "The PDF is encrypted and cannot be read without its password.",
    ErrorCode.CORRUPT_RTF: "The .rtf file cannot be parsed as RTF.",
    ErrorCode.BAD_HL7: "The .hl7 file is not a readable HL7 v2 message (no MSH segment, bad delimiters, or no "
    "OBR/OBX with report text).",
    ErrorCode.BAD_JSON: "The .json file is not valid JSON.",
    ErrorCode.BAD_FHIR: "The JSON is not a FHIR R4 DiagnosticReport or a Bundle holding some.",
    ErrorCode.NO_REPORT_TEXT: "The FHIR resource carries no report text (no conclusion, presentedForm or "
    "narrative the reader can use).",
    ErrorCode.SYMLINK_LOOP: "The path is a symlink loop.",
    ErrorCode.UNSUPPORTED: "Not a report file type the readers know (or a folder, a pipe or a device given as a file).",
    ErrorCode.INTERNAL: "An unexpected error while reading the file; the message names its type only. Please "
    "report it with the file type.",
}

REVIEW_TEXT = """needs_review (review reasons)

A result with needs_review: true passed or failed as usual, but some decision in it rests on
ambiguous structure (for example a layout the checker reads in more than one way). The verdict
stands; a person should look before the report is billed, so a pass that needs review is not to be
released unseen.

Where it shows: review_reasons in the JSON results ("<element>: why"), the review_reasons column of
the CSV, "NEEDS REVIEW" and "review" lines in the text output, the needs_review count of an audit's
summary.json, and the pre-bill reason PB023-report-needs-review (decision: review)."""


@dataclass(frozen=True)
class Entry:
    """One id ``explain`` knows: its group, a one-line summary for ``--list``, and its full explanation."""

    id: str
    group: str
    summary: str
    text: Callable[[], str]


def _element_text(element: str) -> str:
    from tbs_doccheck.resources import element_catalogue

    catalogue = element_catalogue()
    entry = catalogue.entry(element)
    reqs = [f"{r.id} ({r.title})" for r in catalogue.requirements if element in r.elements]
    return f"{element}\n\n{entry.definition}\n\nTo fix: {entry.to_fix}\n\nFeeds requirement(s): {', '.join(reqs)}"


def _requirement_text(req_id: str) -> str:
    from tbs_doccheck.resources import element_catalogue

    req = next(r for r in element_catalogue().requirements if r.id == req_id)
    return f"{req.id}: {req.title}\n\nMet when these elements are all satisfied: {', '.join(req.elements)}"


def _checker_rule_text(rule_id: str) -> str:
    from tbs_doccheck.checker.patterns import load_patterns

    pset = load_patterns()
    lines = [f"{rule_id}: {pset.rule_index()[rule_id]}"]
    kinds = (("section rule", pset.sections), ("target rule", pset.targets), ("ConText rule", pset.context))
    for group, rules in kinds:
        for rule in rules:
            if rule.metadata.id == rule_id:
                lines.append(f"kind: {group}; category: {rule.category}")
                if rule.metadata.reason:
                    lines.append(f"why it counts: {rule.metadata.reason}")
                if isinstance(rule.pattern, str):
                    lines.append(f"pattern: {rule.pattern}")
    return "\n".join(lines)


def _error_text(code: ErrorCode) -> str:
    return (
        f"{code.value}: {ERROR_MEANINGS[code]}\n\n"
        "An input that cannot be read gets verdict \"error\" with this code; the other inputs are still "
        "checked, and the command exits 2. The message names the file, never its contents."
    )


def _flag_entries() -> list[Entry]:
    """The clinical consistency flags, when this installation has them."""
    try:
        from tbs_doccheck import flags
    except ImportError:
        return []
    if not (hasattr(flags, "all_flags") and hasattr(flags, "describe")):
        return []
    return [
        Entry(f.id, "consistency flags", f.literal, lambda i=f.id: flags.describe(i) or i)
        for f in flags.all_flags()
    ]


def catalogue() -> list[Entry]:
    """Every id ``explain`` knows, grouped in the order ``--list`` shows them."""
    from tbs_doccheck.checker.patterns import load_patterns
    from tbs_doccheck.prebill import registry
    from tbs_doccheck.resources import element_catalogue

    elements = element_catalogue()
    entries = [
        Entry(e, "elements", elements.entry(e).label, lambda e=e: _element_text(e)) for e in ELEMENT_IDS
    ]
    entries += [
        Entry(r.id, "requirements", r.title, lambda i=r.id: _requirement_text(i)) for r in elements.requirements
    ]
    entries += [
        Entry(rule_id, "checker rules", literal, lambda i=rule_id: _checker_rule_text(i))
        for rule_id, literal in load_patterns().rule_index().items()
    ]
    entries += [
        Entry(info.rule_id, "pre-bill rules", f"({info.outcome}) {info.summary}",
              lambda i=info.rule_id: registry.describe(i))
        for info in registry.all_rules()
    ]
    entries += [
        Entry(code.value, "error codes", ERROR_MEANINGS[code].split(". ")[0].rstrip("."),
              lambda c=code: _error_text(c))
        for code in ErrorCode
    ]
    entries.append(Entry("needs_review", "review", "a decision rests on ambiguous structure: look before billing",
                         lambda: REVIEW_TEXT))
    entries += _flag_entries()
    return entries


def _aliases(entry: Entry) -> list[str]:
    """The lower-case names an entry answers to: its id, plus the number alone for PBnnn-… and Ennn-… ids."""
    names = [entry.id.lower()]
    if entry.group in ("pre-bill rules", "error codes"):
        names.append(entry.id.split("-", 1)[0].lower())
    if entry.group == "requirements":
        names.append(entry.id.split("-", 1)[0].lower())
    if entry.group == "review":
        names += ["needs-review", "review_reasons", "review-reasons", "review"]
    return names


def find(what: str, entries: list[Entry]) -> Entry | None:
    """The entry ``what`` names, case-insensitively (``pb021``, ``e003``, ``Signature``)."""
    wanted = what.strip().lower()
    return next((e for e in entries if wanted in _aliases(e)), None)


def suggestions(what: str, entries: list[Entry], n: int = 3) -> list[str]:
    """Ids close to a mistyped ``what``, best first."""
    by_alias = {alias: e.id for e in entries for alias in _aliases(e)}
    close = difflib.get_close_matches(what.strip().lower(), list(by_alias), n=n * 2, cutoff=0.6)
    return list(dict.fromkeys(by_alias[c] for c in close))[:n]


def render_list(entries: list[Entry]) -> str:
    """Every id with its one-line summary, grouped."""
    out: list[str] = []
    for group in dict.fromkeys(e.group for e in entries):
        members = [e for e in entries if e.group == group]
        width = max(len(e.id) for e in members)
        out += [f"{group}:", *(f"  {e.id:{width}}  {e.summary}" for e in members), ""]
    return "\n".join(out).rstrip("\n")


def explain(
    what: Annotated[str | None, typer.Argument(
        metavar="ID", show_default=False,
        help="Any id the tool prints: an element (signature), a checker rule (C-NEG-NO), a pre-bill rule "
        "(PB021 or PB021-report-fails), an error code (E003-empty), needs_review, a consistency flag. "
        "Case does not matter.")] = None,
    list_all: Annotated[bool, typer.Option("--list", help="List every id, grouped, with one line each.")] = False,
) -> None:
    """Say what an element, rule, pre-bill reason, error code or flag means, and why."""
    entries = catalogue()
    if list_all:
        typer.echo(render_list(entries))
        return
    if what is None:
        fail("name an id to explain, or --list to see them all")
    entry = find(what, entries)
    if entry is None:
        close = suggestions(what, entries)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        fail(f"unknown id {what!r}{hint} (tbs-doccheck explain --list lists every id)")
    typer.echo(entry.text())
