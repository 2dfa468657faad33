"""Plain text: bytes decoded the way an editor would guess them, BOMs first, never by statistics."""

from __future__ import annotations

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers.base import (
    _MAX_CONTROL_SHARE,
    _UTF8_BOM,
    _control_share,
    _describe_binary,
    _normalise_newlines,
    _Unreadable,
)

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian mark begins with the UTF-16 one.
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
    (_UTF8_BOM, "utf-8-sig", "UTF-8"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)


def _decode_text(data: bytes) -> str:
    """Decodes bytes the way a text editor would guess them, deterministically.

    BOMs win; then UTF-8; then cp1252 (what Windows report systems write), then latin-1
    which cannot fail. No statistical detection, so the same bytes always give the
    same text.

    Raises:
        _Unreadable: E005 for binary data, E006 when a BOM promises an encoding the
            bytes do not follow.
    """
    text: str | None = None
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise _Unreadable(
                    ErrorCode.UNDECODABLE,
                    f"starts with a {name} byte-order mark but is not valid {name} text",
                ) from None
            break
    else:
        if b"\x00" in data:
            text = _decode_bomless_utf16(data)
            if text is None:
                raise _Unreadable(
                    ErrorCode.BINARY,
                    f"contains NUL bytes: expected text, got {_describe_binary(data)}",
                )
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    text = data.decode("cp1252")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
    text = text.removeprefix("\ufeff")
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise _Unreadable(
            ErrorCode.BINARY,
            f"is mostly non-text characters: expected text, got {_describe_binary(data)}",
        )
    return _normalise_newlines(text)


def _decode_bomless_utf16(data: bytes) -> str | None:
    # ASCII-range UTF-16 has a NUL in every other byte and none in between; anything
    # else with NULs in it is binary.
    if len(data) % 2:
        return None
    for codec, zeros, chars in (
        ("utf-16-le", data[1::2], data[0::2]),
        ("utf-16-be", data[0::2], data[1::2]),
    ):
        if zeros.count(0) >= 0.9 * len(zeros) and chars.count(0) == 0:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None
