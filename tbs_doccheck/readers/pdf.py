"""PDF: the text layer of every page; truncated, encrypted and scanned files are refused."""

from __future__ import annotations

import io

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers.base import _describe, _normalise_newlines, _Unreadable


def _read_pdf(data: bytes) -> str:
    """The text layer of every page, pages joined by newlines."""
    if b"%PDF-" not in data[:1024]:
        raise _Unreadable(
            ErrorCode.CORRUPT_PDF, f"expected a PDF (starting '%PDF-'), got {_describe(data)}"
        )
    # pypdf recovers what it can from a cut-off file; half a report would then be
    # judged as if it were the whole one, so a missing end marker is an error.
    if b"%%EOF" not in data[-2048:]:
        raise _Unreadable(
            ErrorCode.CORRUPT_PDF, "is truncated: expected a '%%EOF' marker at its end, found none"
        )

    from pypdf import PdfReader  # imported on first use, like python-docx
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Many PDFs are encrypted only to restrict printing, with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Unreadable(ErrorCode.ENCRYPTED_PDF, "is encrypted and needs a password")
        pages = list(reader.pages)
        texts = [page.extract_text() or "" for page in pages]
    except _Unreadable:
        raise
    except DependencyError:
        raise _Unreadable(
            ErrorCode.ENCRYPTED_PDF,
            "is encrypted with AES, which needs the optional 'cryptography' package to open",
        ) from None
    except FileNotDecryptedError:
        raise _Unreadable(ErrorCode.ENCRYPTED_PDF, "is encrypted and needs a password") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for damaged files
        raise _Unreadable(
            ErrorCode.CORRUPT_PDF, f"is a damaged PDF that could not be read ({type(exc).__name__})"
        ) from None
    if not pages:
        raise _Unreadable(ErrorCode.CORRUPT_PDF, "has no pages")
    text = _normalise_newlines("\n".join(texts))
    if not text.strip():
        raise _Unreadable(ErrorCode.NO_TEXT_LAYER, "has no text layer (scanned image?)")
    return text
