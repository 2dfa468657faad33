"""Reading good files: every format gives the same report text, whatever its encoding or layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tbs_doccheck.readers import read_path

try:  # the helpers sit beside these files; tests/ may or may not become a package
    from tests import formats as F
    from tests.readers.read_helpers import content_lines, write
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]
    from read_helpers import content_lines, write  # type: ignore[no-redef]


# --------------------------------------------------------------------------- good files

GOOD_FILES: list[tuple[str, Callable[[], bytes]]] = [
    ("utf8.txt", lambda: F.txt_bytes()),
    ("utf8-bom.txt", lambda: F.txt_bytes(encoding="utf-8-sig")),
    ("utf16-le-bom.txt", lambda: F.txt_bytes(encoding="utf-16")),
    ("utf16-be-bom.txt", lambda: b"\xfe\xff" + F.REPORT_TEXT.encode("utf-16-be")),
    ("utf16-le-no-bom.txt", lambda: F.REPORT_TEXT.encode("utf-16-le")),
    ("crlf.txt", lambda: F.txt_bytes(newline="\r\n")),
    ("old-mac.txt", lambda: F.txt_bytes(newline="\r")),
    ("dot-text.text", lambda: F.txt_bytes()),
    ("upper-case.TXT", lambda: F.txt_bytes()),
    ("paragraphs.docx", lambda: F.docx_bytes()),
    ("one-page.pdf", lambda: F.pdf_bytes()),
    ("two-pages.pdf", lambda: F.pdf_bytes([F.REPORT_LINES[:3], F.REPORT_LINES[3:]])),
    ("owner-password-only.pdf", lambda: F.encrypted_pdf_bytes(user_password="")),
    ("wordpad.rtf", lambda: F.RTF_REPORT.encode("ascii")),
    ("default-delimiters.hl7", lambda: F.hl7_report().encode()),
    ("odd-delimiters.hl7", lambda: F.hl7_report(delimiters=F.ODD_DELIMITERS).encode()),
    ("crlf-segments.hl7", lambda: F.hl7_report(segment_end="\r\n").encode()),
    ("lf-segments.hl7", lambda: F.hl7_report(segment_end="\n").encode()),
    ("mllp-framed.hl7", lambda: b"\x0b" + F.hl7_report().encode() + b"\x1c\r"),
    (
        "plain-form.json",
        lambda: F.json_bytes(
            F.diagnostic_report(presentedForm=[F.attachment("text/plain", F.REPORT_TEXT)])
        ),
    ),
    (
        "html-form.json",
        lambda: F.json_bytes(
            F.diagnostic_report(
                presentedForm=[F.attachment("text/html; charset=utf-8", F.report_as_html())]
            )
        ),
    ),
    (
        "plain-form-wins.json",
        lambda: F.json_bytes(
            F.diagnostic_report(
                conclusion="Not this.",
                presentedForm=[
                    {"contentType": "application/pdf", "url": "http://example.org/report.pdf"},
                    F.attachment("text/plain", F.REPORT_TEXT),
                ],
            )
        ),
    ),
    (
        "conclusion-and-narrative.json",
        lambda: F.json_bytes(
            F.diagnostic_report(
                conclusion="\n".join(F.REPORT_LINES[:3]), text=F.narrative(F.REPORT_LINES[3:])
            )
        ),
    ),
]


@pytest.mark.parametrize(("name", "build"), GOOD_FILES, ids=[name for name, _ in GOOD_FILES])
def test_a_good_file_in_any_format_reads_as_the_same_report_text(
    tmp_path: Path, name: str, build: Callable[[], bytes]
) -> None:
    path = write(tmp_path, name, build())

    results = read_path(path)

    assert len(results) == 1
    (result,) = results
    assert result.error is None
    assert content_lines(result.text) == list(F.REPORT_LINES)
    assert "TBS L1-L4: 1.254" in result.text
    assert "\r" not in result.text
    assert not result.text.startswith("\ufeff")
    assert result.source == str(path)


@pytest.mark.parametrize(
    ("name", "build"),
    [(n, b) for n, b in GOOD_FILES if not n.endswith((".hl7", ".json"))],
)
def test_a_single_report_file_is_named_after_the_file_without_position(
    tmp_path: Path, name: str, build: Callable[[], bytes]
) -> None:
    path = write(tmp_path, f"reports/{name}", build())

    (result,) = read_path(path)

    assert result.id == path.stem
    assert result.position is None


def test_a_cp1252_text_file_falls_back_to_windows_characters(tmp_path: Path) -> None:
    text = F.REPORT_TEXT.replace("Jane Roe", "Zoë Renée") + "Résumé – “final”\n"
    path = write(tmp_path, "windows.txt", text.encode("cp1252"))

    (result,) = read_path(path)

    assert result.error is None
    assert "Electronically signed by Zoë Renée, MD" in result.text
    assert "Résumé – “final”" in result.text


def test_a_text_file_keeps_its_text_exactly_apart_from_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, "exact.txt", b"  Indented line\r\n\r\nTBS L1-L4: 1.254  \r\n")

    (result,) = read_path(path)

    assert result.text == "  Indented line\n\nTBS L1-L4: 1.254  \n"


def test_a_docx_reads_paragraphs_and_table_rows_in_document_order(tmp_path: Path) -> None:
    data = F.docx_bytes(
        before=F.REPORT_LINES[:2],
        table=[["Region", "TBS"], ["L1-L4", "1.254"]],
        after=F.REPORT_LINES[2:],
    )
    path = write(tmp_path, "table.docx", data)

    (result,) = read_path(path)

    assert content_lines(result.text) == [
        *F.REPORT_LINES[:2],
        "Region | TBS",
        "L1-L4 | 1.254",
        *F.REPORT_LINES[2:],
    ]


def test_a_docx_paragraph_keeps_tabs_and_line_breaks(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    run = document.add_paragraph().add_run("TBS L1-L4:\t1.254")
    run.add_break()
    run.add_text("Electronically signed")
    path = tmp_path / "breaks.docx"
    document.save(str(path))

    (result,) = read_path(path)

    assert result.text == "TBS L1-L4:\t1.254\nElectronically signed"


def test_a_multi_page_pdf_joins_its_pages_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, "pages.pdf", F.pdf_bytes([["Page one"], ["Page two"], ["Page three"]]))

    (result,) = read_path(path)

    assert content_lines(result.text) == ["Page one", "Page two", "Page three"]
