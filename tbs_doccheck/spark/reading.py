"""Bytes Spark's ``binaryFile`` source has read, turned into reports by the project's own format readers."""

from __future__ import annotations

from pathlib import PurePath

from tbs_doccheck.models import ErrorCode, ReportInput
from tbs_doccheck.readers.base import _Item, _Unreadable
from tbs_doccheck.readers.files import (
    SUPPORTED_SUFFIXES,
    _too_large,
    items_from_bytes,
    reports_from,
)

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
    return reports_from(source, lambda: _items(PurePath(source).suffix.lower(), data, max_bytes))


def _items(suffix: str, data: bytes, max_bytes: int) -> tuple[list[_Item], bool]:
    """The file's reports and whether the file is a multi-report container (``read_path``'s dispatch)."""
    if suffix not in CONTENT_SUFFIXES or suffix not in SUPPORTED_SUFFIXES:
        # The driver sends only these; a stray file is named, never parsed as something it is not.
        raise _Unreadable(ErrorCode.UNSUPPORTED, f"has an unsupported type {suffix or '(no extension)'!r}")
    if len(data) > max_bytes:
        raise _Unreadable(ErrorCode.TOO_LARGE, _too_large(len(data), max_bytes, at_least=True))
    return items_from_bytes(suffix, data)

