"""What every reader shares: the error it raises, the item it returns, and bytes named without quoting them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tbs_doccheck.models import ErrorCode

# Above this share of control characters, "text" is really binary data decoded by force.
_MAX_CONTROL_SHARE = 0.05

_UTF8_BOM = b"\xef\xbb\xbf"

# C0 controls except tab/LF/VT/FF/CR, DEL, C1 controls and the replacement character.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
# JSON's "\\ud800" escapes and RTF's "\\u-10240?" give surrogate code points, which no UTF-8
# output (nor spaCy) can take: see _valid_unicode.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

# Magic numbers let an error say what a misnamed file really is without quoting it.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"%PDF-", "a PDF"),
    (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (such as a .doc)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "gzip data"),
)


class _Unreadable(Exception):
    """Raised inside the readers; :func:`read_path` turns it into a :class:`ReadError`.

    ``problem`` describes the file's shape only: :func:`read_path` prefixes the path,
    and nothing from the file's text may ever be put in it.
    """

    def __init__(self, code: ErrorCode, problem: str) -> None:
        super().__init__(code, problem)
        self.code = code
        self.problem = problem


@dataclass(frozen=True)
class _Item:
    """One report found inside a file, or why that one report could not be read."""

    id: str | None
    text: str | None = None
    code: ErrorCode | None = None
    problem: str | None = None


def _valid_unicode(text: str) -> str:
    """``text`` with surrogate pairs joined into their character and lone surrogates as U+FFFD.

    RTF spells characters beyond U+FFFF as two ``\\uN`` UTF-16 halves, and JSON may escape a
    lone half: either way Python holds code points that cannot be encoded as UTF-8.
    """
    if not _SURROGATE_RE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_share(text: str) -> float:
    return len(_CONTROL_RE.findall(text)) / len(text) if text else 0.0


def _describe(data: bytes) -> str:
    """Names what the bytes look like, without quoting any of them."""
    head = data[:1024].removeprefix(_UTF8_BOM).lstrip()
    if not head:
        return "an empty file"
    for signature, label in _SIGNATURES:
        if head.startswith(signature):
            return label
    if head[:3] in (b"MSH", b"FHS", b"BHS"):
        return "an HL7 message"
    if b"\x00" in head or _control_share(head.decode("latin-1")) > _MAX_CONTROL_SHARE:
        return "binary data"
    if head[:1] in (b"{", b"["):
        return "JSON-like text"
    if head[:1] == b"<":
        return "XML or HTML markup"
    return "plain text"


def _describe_binary(data: bytes) -> str:
    """Like :func:`_describe`, for bytes already known not to be text."""
    description = _describe(data)
    known = {label for _signature, label in _SIGNATURES} - {"an RTF document"}
    return description if description in known else "binary data"
