"""Word .docx: the zip checked against bombs, then its paragraphs and table rows in reading order."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers.base import _describe, _normalise_newlines, _Unreadable

if TYPE_CHECKING:
    from lxml.etree import _Element

# A .docx is a zip: its size on disk says little about what python-docx will hold in
# memory, so the unzipped size and the compression ratio are capped separately.
_MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
_MAX_ZIP_MEMBERS = 5_000
_MAX_ZIP_RATIO = 100
# Tiny members can have absurd ratios (an empty XML part) without any danger.
_ZIP_RATIO_FLOOR = 1024 * 1024

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Word keeps deleted text in w:delText and field codes in w:instrText, so neither is
# matched below; properties and compatibility fallbacks would only duplicate text.
_DOCX_SKIP = frozenset({_W + "pPr", _W + "rPr", _W + "tblPr", _W + "tcPr", _MC_FALLBACK})


def _read_docx(data: bytes) -> str:
    """Paragraphs and table rows of a Word document, in reading order."""
    if not data.startswith(b"PK"):
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX, f"expected a .docx (zip) file, got {_describe(data)}"
        )
    _check_zip(data)

    import docx  # imported on first use: runs without Word files skip its import cost

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for bad packages
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            f"is a zip archive but not a readable Word document ({type(exc).__name__})",
        ) from None
    return _normalise_newlines("\n".join(_docx_blocks(body)))


def _check_zip(data: bytes) -> None:
    """Refuses broken zips and zip bombs before python-docx unzips every part into memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
    except Exception:  # noqa: BLE001 - BadZipFile, EOFError, NotImplementedError for odd methods...
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            "expected a .docx (zip) file, got a corrupt or truncated zip archive",
        ) from None
    if len(members) > _MAX_ZIP_MEMBERS:
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            f"holds {len(members):,} zip entries, expected at most {_MAX_ZIP_MEMBERS:,} in a .docx",
        )
    # zipfile stops each member at its declared size, so the declared sizes are a
    # real bound on what unzipping can produce.
    unzipped = sum(member.file_size for member in members)
    if unzipped > _MAX_UNZIPPED_BYTES:
        raise _Unreadable(
            ErrorCode.TOO_LARGE,
            f"unzips to {unzipped:,} bytes, "
            f"over the {_MAX_UNZIPPED_BYTES:,}-byte limit for a .docx",
        )
    for member in members:
        if member.file_size > _ZIP_RATIO_FLOOR and member.file_size > _MAX_ZIP_RATIO * max(
            member.compress_size, 1
        ):
            raise _Unreadable(
                ErrorCode.CORRUPT_DOCX,
                f"looks like a zip bomb: an entry compressed more than {_MAX_ZIP_RATIO}:1",
            )
    if "[Content_Types].xml" not in names:
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            "expected a .docx, got a zip archive that is not an Office document "
            "(no [Content_Types].xml)",
        )


def _docx_blocks(container: _Element) -> Iterator[str]:
    """Yields one line per paragraph and per table row, in document order."""
    for child in _docx_children(container, (_W + "p", _W + "tbl")):
        if child.tag == _W + "p":
            yield _docx_paragraph(child)
        else:
            yield from _docx_table(child)


def _docx_children(element: _Element, tags: tuple[str, ...]) -> Iterator[_Element]:
    """Children with one of ``tags``, looking through content controls and custom XML.

    Those wrappers can hold paragraphs, rows or cells anywhere; their text is as much
    part of the document as unwrapped text.
    """
    for child in element.iterchildren():
        if child.tag in tags:
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_children(content, tags)
        elif child.tag in (_W + "customXml", _W + "ins", _W + "smartTag"):
            yield from _docx_children(child, tags)


def _docx_table(table: _Element) -> Iterator[str]:
    for row in _docx_children(table, (_W + "tr",)):
        cells = []
        for cell in _docx_children(row, (_W + "tc",)):
            lines = (line.strip() for line in _docx_blocks(cell))
            cells.append(" ".join(line for line in lines if line))
        yield " | ".join(cells)


def _docx_paragraph(paragraph: _Element) -> str:
    parts: list[str] = []

    def visit(element: _Element) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in _DOCX_SKIP:
                continue
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag == _W + "tab":
                parts.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            elif tag == _W + "p":
                # A text box paragraph inside this one: keep it on its own line.
                parts.append("\n")
                visit(child)
                parts.append("\n")
            else:
                visit(child)

    visit(paragraph)
    return "".join(parts)
