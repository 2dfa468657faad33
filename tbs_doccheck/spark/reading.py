"""Bytes Spark's ``binaryFile`` source has read, turned into reports by the project's own format readers."""

from __future__ import annotations

from pathlib import PurePath

from tbs_doccheck.models import ErrorCode, ReportInput
from tbs_doccheck.readers.base import _Item, _Unreadable
from tbs_doccheck.readers.docx import _read_docx
from tbs_doccheck.readers.fhir import _read_fhir
from tbs_doccheck.readers.files import (
    SUPPORTED_SUFFIXES,
    _file_error,
    _require_text,
    _too_large,
    reports_from_items,
)
from tbs_doccheck.readers.hl7 import _read_hl7
from tbs_doccheck.readers.pdf import _read_pdf
from tbs_doccheck.readers.rtf import _read_rtf
from tbs_doccheck.readers.text import _decode_text

__all__ = ["CONTENT_SUFFIXES", "read_content"]

#: Suffixes :func:`read_content` parses. A format the readers learn later goes to ``read_path`` on the
#: executors until it is added here, rather than being parsed as something else.
CONTENT_SUFFIXES: frozenset[str] = frozenset({".txt", ".text", ".docx", ".pdf", ".rtf", ".hl7", ".json"})


def read_content(source: str, data: bytes, *, max_bytes: int) -> list[ReportInput]:
    """What :func:`tbs_doccheck.readers.read_path` gives for ``source``, from the bytes already read.

    ``read_path`` reads the file itself (after ``stat``); on an executor the bytes come from Spark's
    ``binaryFile`` source instead, which can read from any Hadoop file system. Only the steps after
    the read are done here, with the same format readers, ids, positions, codes and messages (a test
    holds the two to the same answers on every format and broken file). Files that ``stat`` would
    refuse (missing, looping, not regular, over ``max_bytes``) never reach here: the driver sends them
    to ``read_path``.

    Args:
        source: The path, as the local audit would name it.
        data: The file's bytes.
        max_bytes: Bytes over this are refused (E004), as when the file grew after the driver's ``stat``.

    Returns:
        At least one :class:`ReportInput`; never raises for bad input.
    """
    stem = PurePath(source).stem or source
    try:
        items, is_container = _items(PurePath(source).suffix.lower(), data, max_bytes)
    except _Unreadable as exc:
        return [_file_error(stem, source, exc.code, exc.problem)]
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises for bad input"
        # Only the type: an exception's text may quote the document.
        return [_file_error(stem, source, ErrorCode.INTERNAL, f"internal error while reading ({type(exc).__name__})")]

    return reports_from_items(items, stem, source, is_container)


def _items(suffix: str, data: bytes, max_bytes: int) -> tuple[list[_Item], bool]:
    """The file's reports and whether the file is a multi-report container (``read_path``'s dispatch)."""
    if suffix not in CONTENT_SUFFIXES or suffix not in SUPPORTED_SUFFIXES:
        # The driver sends only these; a stray file is named, never parsed as something it is not.
        raise _Unreadable(ErrorCode.UNSUPPORTED, f"has an unsupported type {suffix or '(no extension)'!r}")
    if len(data) > max_bytes:
        raise _Unreadable(ErrorCode.TOO_LARGE, _too_large(len(data), max_bytes, at_least=True))
    if not data.strip():
        raise _Unreadable(ErrorCode.EMPTY, "is empty (expected report text)")
    if suffix in (".txt", ".text"):
        return [_Item(None, _require_text(_decode_text(data)))], False
    if suffix == ".docx":
        return [_Item(None, _require_text(_read_docx(data)))], False
    if suffix == ".pdf":
        return [_Item(None, _read_pdf(data))], False
    if suffix == ".rtf":
        return [_Item(None, _require_text(_read_rtf(data)))], False
    if suffix == ".hl7":
        return _read_hl7(data), True
    if suffix == ".json":
        return _read_fhir(data)
    raise AssertionError(f"suffix {suffix!r} is in CONTENT_SUFFIXES but has no reader here")  # pragma: no cover

