"""RTF: the document's text, once its groups are known to close."""

from __future__ import annotations

import re

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers.base import _UTF8_BOM, _describe, _normalise_newlines, _Unreadable, _valid_unicode
from tbs_doccheck.readers.text import _decode_text


def _read_rtf(data: bytes) -> str:
    body = data.removeprefix(_UTF8_BOM).lstrip()
    if not body.startswith(b"{\\rtf"):
        raise _Unreadable(
            ErrorCode.CORRUPT_RTF,
            f"expected an RTF document starting with '{{\\rtf', got {_describe(data)}",
        )
    try:
        raw = _decode_text(body)
    except _Unreadable:
        raise _Unreadable(
            ErrorCode.CORRUPT_RTF, "expected RTF (7-bit text), got binary data after the header"
        ) from None
    # Unclosed groups mean the end of the file, and with it the report, is missing.
    if _rtf_open_groups(raw) > 0:
        raise _Unreadable(ErrorCode.CORRUPT_RTF, "is truncated: its '{' groups are never closed")

    from striprtf.striprtf import rtf_to_text  # imported on first use

    try:
        text = rtf_to_text(raw, errors="replace")
    except Exception as exc:  # noqa: BLE001 - striprtf is a regex scanner with few guarantees
        raise _Unreadable(
            ErrorCode.CORRUPT_RTF, f"could not be parsed as RTF ({type(exc).__name__})"
        ) from None
    return _valid_unicode(_normalise_newlines(text))


def _rtf_open_groups(raw: str) -> int:
    depth = 0
    for match in re.finditer(r"\\[\\{}]|[{}]", raw):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return 0  # text after the outer group is ignored, as Word does
    return depth
