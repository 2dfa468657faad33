"""What the reader tests share: a marker no error may quote, a file writer and the single-error check."""

from __future__ import annotations

from pathlib import Path

from tbs_doccheck.models import ErrorCode, ReportInput

try:  # the helpers sit beside these files; tests/ may or may not become a package
    from tests import formats as F
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]

MARKER = F.MARKER
MARKER_BYTES = MARKER.encode()


def content_lines(text: str | None) -> list[str]:
    """The non-blank lines of a report, stripped: what must match across formats."""
    assert text is not None
    return [line.strip() for line in text.splitlines() if line.strip()]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def assert_single_error(results: list[ReportInput], path: Path, code: ErrorCode) -> None:
    assert len(results) == 1, results
    (result,) = results
    assert result.error is not None, f"expected {code}, got text"
    assert result.error.code == code, result.error.message
    assert result.text is None
    assert result.id == path.stem
    assert result.source == str(path)
    assert path.name in result.error.message
    assert MARKER not in result.error.message
