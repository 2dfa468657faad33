"""One path to its reports: the file checked with stat, read within the size limit, and its format's reader run."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import NoReturn

from tbs_doccheck.models import ErrorCode, ReadError, ReportInput
from tbs_doccheck.readers.base import _Item, _Unreadable
from tbs_doccheck.readers.docx import _read_docx
from tbs_doccheck.readers.fhir import _read_fhir
from tbs_doccheck.readers.hl7 import _read_hl7
from tbs_doccheck.readers.pdf import _read_pdf
from tbs_doccheck.readers.rtf import _read_rtf
from tbs_doccheck.readers.text import _decode_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "read_path",
]

#: File name suffixes (lower case) that :func:`read_path` knows how to read.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".text", ".docx", ".pdf", ".rtf", ".hl7", ".json"}
)

#: Largest file :func:`read_path` reads unless told otherwise; reports are small, so a
#: bigger file is far more likely a mistake (or an attack) than a report.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def read_path(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[ReportInput]:
    """Reads one file into the reports it holds.

    Never raises for bad input: whatever is wrong with the file comes back as an error
    record. Error messages name the file and the problem, never the file's contents.

    Args:
        path: The file. Kept as given in ``source``.
        max_bytes: Files larger than this are refused (E004) without being read.

    Returns:
        At least one :class:`ReportInput`. Single-report files (.txt, .docx, .pdf, .rtf,
        a lone FHIR DiagnosticReport) give one, with ``id`` the file name without its
        extension and ``position`` None. Containers (.hl7, a FHIR Bundle) give one per
        report with ``position`` 1..n: ids come from OBR-3, else OBR-2 (HL7) or the
        resource id (FHIR), else ``<stem>#<n>``; a report inside a container that cannot
        be read becomes an error record in its place while the others are still read.
        A file that cannot be read at all gives exactly one record, with ``error`` set
        and ``text`` None.
    """
    source = os.fspath(path)
    return reports_from(source, lambda: _read_items(Path(source), max_bytes))


def reports_from(source: str, read: Callable[[], tuple[list[_Item], bool]]) -> list[ReportInput]:
    """The reports ``read()`` finds in ``source``; whatever goes wrong becomes one error record, never an exception.

    Args:
        source: The path, as given (ids and messages name it).
        read: Returns the file's items and whether the file is a multi-report container.
    """
    stem = PurePath(source).stem or source
    try:
        items, is_container = read()
    except _Unreadable as exc:
        return [_file_error(stem, source, exc.code, exc.problem)]
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises for bad input"
        # Only the type: an exception's text may quote the document.
        return [_file_error(stem, source, ErrorCode.INTERNAL, f"internal error while reading ({type(exc).__name__})")]
    return reports_from_items(items, stem, source, is_container)


def reports_from_items(items: list[_Item], stem: str, source: str, is_container: bool) -> list[ReportInput]:
    """The report inputs a file's read items make: one error record when nothing was readable, else one a report.

    Args:
        items: What a format reader found in the file.
        stem: The file name without its suffix (the id of a single-report file).
        source: The path, as given.
        is_container: Whether the format holds several reports (HL7 batch, FHIR Bundle), which get positions.
    """
    if all(item.code is not None for item in items):
        # Nothing readable: one record for the file, as for any other unreadable file.
        first = items[0]
        problem = first.problem or "could not be read"
        if len(items) > 1:
            problem = f"none of its {len(items)} reports could be read; the first: {problem}"
        return [_file_error(stem, source, first.code or ErrorCode.INTERNAL, problem)]

    if not is_container:
        (item,) = items
        return [ReportInput(id=item.id or stem, text=item.text, source=source)]

    reports = []
    for position, item in enumerate(items, start=1):
        report_id = item.id or f"{stem}#{position}"
        if item.code is not None:
            error = ReadError(code=item.code, message=f"{source}: {item.problem}")
            reports.append(ReportInput(id=report_id, source=source, position=position, error=error))
        else:
            reports.append(
                ReportInput(id=report_id, text=item.text, source=source, position=position)
            )
    return reports


def _file_error(stem: str, source: str, code: ErrorCode, problem: str) -> ReportInput:
    return ReportInput(
        id=stem, source=source, error=ReadError(code=code, message=f"{source}: {problem}")
    )


def _read_items(path: Path, max_bytes: int) -> tuple[list[_Item], bool]:
    """Returns the file's reports and whether the file is a multi-report container."""
    return items_from_bytes(path.suffix.lower(), _read_bytes(path, max_bytes))


def items_from_bytes(suffix: str, data: bytes) -> tuple[list[_Item], bool]:
    """A supported file's reports from its bytes, and whether the file is a multi-report container."""
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
    raise AssertionError(f"suffix {suffix!r} has no reader")  # pragma: no cover


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Checks the path with stat before opening it, then reads at most ``max_bytes + 1``."""
    info = _stat(path)
    if stat.S_ISDIR(info.st_mode):
        _refuse_folder(path)
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO or a device could block forever or never reach end of file.
        raise _Unreadable(
            ErrorCode.UNSUPPORTED, "is not a regular file (a pipe, socket or device?)"
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        expected = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise _Unreadable(
            ErrorCode.UNSUPPORTED,
            f"has an unsupported type {suffix or '(no extension)'!r}; expected one of {expected}",
        )
    if info.st_size > max_bytes:
        raise _Unreadable(ErrorCode.TOO_LARGE, _too_large(info.st_size, max_bytes))
    return _read_at_most(path, max_bytes)


def _stat(path: Path) -> os.stat_result:
    """``os.stat(path)``, following symlinks; a path that cannot be looked at raises its own error code."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise _Unreadable(
                ErrorCode.NOT_FOUND, "does not exist (it is a symlink to a missing file)"
            ) from None
        raise _Unreadable(ErrorCode.NOT_FOUND, "does not exist") from None
    except NotADirectoryError:
        raise _Unreadable(
            ErrorCode.NOT_FOUND, "does not exist (a parent in the path is a file)"
        ) from None
    except PermissionError:
        raise _Unreadable(
            ErrorCode.PERMISSION, "cannot be looked at: permission denied on a parent folder"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Unreadable(ErrorCode.SYMLINK_LOOP, "is a symlink loop") from None
        raise _Unreadable(ErrorCode.INTERNAL, f"cannot be looked at: {_os_error(exc)}") from None
    except ValueError:  # no file system allows a NUL byte in a name
        raise _Unreadable(ErrorCode.NOT_FOUND, "does not exist (the path holds a NUL byte)") from None


def _refuse_folder(path: Path) -> NoReturn:
    """Always raises: a folder is not a report, and one that cannot be listed says so first."""
    try:
        with os.scandir(path):
            pass
    except PermissionError:
        raise _Unreadable(
            ErrorCode.PERMISSION, "is a folder that cannot be listed: permission denied"
        ) from None
    except OSError as exc:
        raise _Unreadable(
            ErrorCode.INTERNAL, f"is a folder that cannot be listed: {_os_error(exc)}"
        ) from None
    raise _Unreadable(ErrorCode.UNSUPPORTED, "is a folder, expected a report file")


def _read_at_most(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused as too large if it holds more than ``max_bytes`` after all."""
    try:
        with open(path, "rb") as handle:
            # One byte over the limit is enough to notice a file that grew after stat.
            data = handle.read(max_bytes + 1)
    except PermissionError:
        raise _Unreadable(ErrorCode.PERMISSION, "cannot be read: permission denied") from None
    except OSError as exc:
        raise _Unreadable(ErrorCode.INTERNAL, f"cannot be read: {_os_error(exc)}") from None
    if len(data) > max_bytes:
        raise _Unreadable(ErrorCode.TOO_LARGE, _too_large(len(data), max_bytes, at_least=True))
    return data


def _too_large(size: int, max_bytes: int, *, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return f"is {more}{size:,} bytes, over the {max_bytes:,}-byte limit"


def _os_error(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "unknown")
    return f"{exc.strerror or 'OS error'} ({name})"


def _require_text(text: str) -> str:
    if not text.strip():
        raise _Unreadable(ErrorCode.EMPTY, "has no text (expected report text)")
    return text
