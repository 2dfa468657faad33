"""Reading report files: every format gives the same text, every broken file one clear error."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tbs_doccheck.models import ErrorCode, ReportInput
from tbs_doccheck.readers import core as read
from tbs_doccheck.readers.core import (
    DEFAULT_MAX_BYTES,
    SUPPORTED_SUFFIXES,
    discover,
    discover_sources,
    iter_inputs,
    path_order,
    read_path,
)

try:  # the helpers sit beside this file; tests/ may or may not become a package
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


def test_a_lone_diagnostic_report_takes_its_resource_id_or_else_the_file_name(
    tmp_path: Path,
) -> None:
    form = [F.attachment("text/plain", F.REPORT_TEXT)]
    with_id = write(
        tmp_path, "a.json", F.json_bytes(F.diagnostic_report("dr-77", presentedForm=form))
    )
    without = write(tmp_path, "b.json", F.json_bytes(F.diagnostic_report(None, presentedForm=form)))

    assert [(r.id, r.position) for r in read_path(with_id)] == [("dr-77", None)]
    assert [(r.id, r.position) for r in read_path(without)] == [("b", None)]


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


def test_html_presented_form_keeps_line_breaks_for_block_tags_and_drops_styles(
    tmp_path: Path,
) -> None:
    html = (
        "<style>p{color:red}</style><p>Line one<br>Line two</p><div>Line three</div>"
        "<ul><li>Item &amp; more</li></ul><table><tr><td>TBS</td><td>1.254</td></tr></table>"
    )
    path = write(
        tmp_path,
        "html.json",
        F.json_bytes(F.diagnostic_report(presentedForm=[F.attachment("text/html", html)])),
    )

    (result,) = read_path(path)

    assert result.text == "Line one\nLine two\nLine three\nItem & more\nTBS | 1.254"


# --------------------------------------------------------------------------- HL7 details

UNESCAPES = [
    ("no escapes at all", "no escapes at all"),
    (r"field \F\ separator", "field | separator"),
    (r"component \S\ separator", "component ^ separator"),
    (r"sub \T\ component", "sub & component"),
    (r"repeat \R\ separator", "repeat ~ separator"),
    (r"escape \E\ itself", "escape \\ itself"),
    (r"line\.br\break", "line\nbreak"),
    (r"hex\X0D0A\break", "hex\r\nbreak"),
    (r"hex \X41\ letter", "hex A letter"),
    (r"two\.sp2\blank", "two\n\nblank"),
    (r"\H\bold\N\ text", "bold text"),
    (r"indent\.in4\ed", "indented"),
    (r"site \Zsomething\ code", "site  code"),
    (r"unterminated \F", "unterminated \\F"),
]


@pytest.mark.parametrize(("raw", "expected"), UNESCAPES)
def test_hl7_escape_sequences_become_the_characters_they_stand_for(raw: str, expected: str) -> None:
    delimiters = read._Delimiters("|", "^", "~", "\\", "&")

    assert read._hl7_unescape(raw, delimiters) == expected


def test_hl7_escapes_follow_the_message_own_escape_character(tmp_path: Path) -> None:
    value = "TBS@T@L1@.br@signed@F@ok"  # '@' escapes, '%' is the subcomponent separator
    message = F.hl7_message([("P", "F", [("FT", value)])], delimiters=F.ODD_DELIMITERS)
    path = write(tmp_path, "odd.hl7", message.encode())

    (result,) = read_path(path)

    assert result.text == "TBS%L1\nsigned#ok"


def test_an_hl7_file_with_several_messages_and_orders_gives_one_report_each(
    tmp_path: Path,
) -> None:
    first = F.hl7_message(
        [
            ("PLAC-001", "FILL-001", [("TX", "Report one: TBS L1-L4: 1.254")]),
            ("PLAC-002", "", [("TX", "Report two: TBS L1-L4: 1.301")]),
        ],
        control_id="MSG1",
    )
    second = F.hl7_message(
        [("", "", [("TX", "Report three: TBS L1-L4: 1.188")])],
        control_id="MSG2",
        delimiters=F.ODD_DELIMITERS,
    )
    path = write(tmp_path, "batch.hl7", (first + second).encode())

    results = read_path(path)

    assert [(r.id, r.position, r.error) for r in results] == [
        ("FILL-001", 1, None),
        ("PLAC-002", 2, None),
        ("batch#3", 3, None),
    ]
    assert [r.text for r in results] == [
        "Report one: TBS L1-L4: 1.254",
        "Report two: TBS L1-L4: 1.301",
        "Report three: TBS L1-L4: 1.188",
    ]
    assert {r.source for r in results} == {str(path)}


def test_an_hl7_id_is_the_first_component_of_the_order_number(tmp_path: Path) -> None:
    message = F.hl7_message([("P-9^RIS", "F-9^LAB^1.2.3^ISO", [("TX", "text")])])
    path = write(tmp_path, "ids.hl7", message.encode())

    assert [r.id for r in read_path(path)] == ["F-9"]


def test_hl7_file_and_batch_envelopes_are_ignored(tmp_path: Path) -> None:
    data = "FHS|^~\\&|RIS\rBHS|^~\\&|RIS\r" + F.hl7_report() + "BTS|1\rFTS|1\r"
    path = write(tmp_path, "batch.hl7", data.encode())

    (result,) = read_path(path)

    assert content_lines(result.text) == list(F.REPORT_LINES)


def test_one_bad_message_in_an_hl7_file_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    good = F.hl7_report()
    bad = F.hl7_message([], control_id="MSG2").replace("PID|1", f"OBX|1|TX|X||{MARKER}\rPID|1")
    path = write(tmp_path, "mixed.hl7", (good + bad).encode())

    results = read_path(path)

    assert [(r.id, r.position) for r in results] == [("FILL-1", 1), ("mixed#2", 2)]
    assert results[0].error is None
    assert results[1].error is not None
    assert results[1].error.code == ErrorCode.BAD_HL7
    assert "message 2" in results[1].error.message
    assert "OBR" in results[1].error.message
    assert path.name in results[1].error.message
    assert MARKER not in results[1].error.message


# --------------------------------------------------------------------------- FHIR Bundle


def test_a_bundle_gives_one_report_per_diagnostic_report_in_entry_order(tmp_path: Path) -> None:
    document = F.bundle(
        {"resourceType": "Patient", "id": "pat-1"},
        F.diagnostic_report("dr-1", presentedForm=[F.attachment("text/plain", "First TBS 1.254")]),
        {"resourceType": "Observation", "id": "obs-1"},
        F.diagnostic_report(None, conclusion="Second TBS 1.301"),
    )
    path = write(tmp_path, "bundle.json", F.json_bytes(document))

    results = read_path(path)

    assert [(r.id, r.position, r.text, r.error) for r in results] == [
        ("dr-1", 1, "First TBS 1.254", None),
        ("bundle#2", 2, "Second TBS 1.301", None),
    ]


def test_a_report_without_text_in_a_bundle_is_an_error_in_its_place(tmp_path: Path) -> None:
    document = F.bundle(
        F.diagnostic_report("dr-1", conclusion="TBS 1.254"),
        F.diagnostic_report("dr-2", code={"text": MARKER}),
    )
    path = write(tmp_path, "bundle.json", F.json_bytes(document))

    first, second = read_path(path)

    assert (first.id, first.position, first.error) == ("dr-1", 1, None)
    assert (second.id, second.position, second.text) == ("dr-2", 2, None)
    assert second.error is not None
    assert second.error.code == ErrorCode.NO_REPORT_TEXT
    assert path.name in second.error.message
    assert MARKER not in second.error.message


# --------------------------------------------------------------------------- broken files


def _docx_without_main_part() -> bytes:
    return F.zip_bytes({"[Content_Types].xml": b"<Types/>", "notes.txt": MARKER_BYTES})


def _truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


BROKEN_FILES: list[tuple[str, Callable[[], bytes], ErrorCode]] = [
    # plain text
    ("empty.txt", lambda: b"", ErrorCode.EMPTY),
    ("whitespace.txt", lambda: b" \r\n\t \n", ErrorCode.EMPTY),
    ("bom-only.txt", lambda: b"\xff\xfe", ErrorCode.EMPTY),
    ("nul-bytes.txt", lambda: MARKER_BYTES + b"\x00\x01\x02\x03" * 50, ErrorCode.BINARY),
    ("controls.txt", lambda: MARKER_BYTES + bytes(range(1, 9)) * 40, ErrorCode.BINARY),
    (
        "png-named.txt",
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + MARKER_BYTES,
        ErrorCode.BINARY,
    ),
    (
        "bad-utf8-bom.txt",
        lambda: b"\xef\xbb\xbf" + MARKER_BYTES + b"\xff\xfe\xfd",
        ErrorCode.UNDECODABLE,
    ),
    (
        "odd-utf16.txt",
        lambda: b"\xff\xfe" + MARKER.encode("utf-16-le") + b"!",
        ErrorCode.UNDECODABLE,
    ),
    # Word
    ("text.docx", lambda: F.txt_bytes(MARKER), ErrorCode.CORRUPT_DOCX),
    (
        "legacy.docx",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + MARKER_BYTES,
        ErrorCode.CORRUPT_DOCX,
    ),
    ("truncated.docx", lambda: _truncated(F.docx_bytes([MARKER]), 0.5), ErrorCode.CORRUPT_DOCX),
    ("plain-zip.docx", lambda: F.zip_bytes({"notes.txt": MARKER_BYTES}), ErrorCode.CORRUPT_DOCX),
    ("no-document.docx", _docx_without_main_part, ErrorCode.CORRUPT_DOCX),
    ("zip-bomb.docx", F.zip_bomb_docx_bytes, ErrorCode.CORRUPT_DOCX),
    ("image-only.docx", lambda: F.docx_bytes([]), ErrorCode.EMPTY),
    # PDF
    ("text.pdf", lambda: F.txt_bytes(MARKER), ErrorCode.CORRUPT_PDF),
    ("truncated.pdf", lambda: _truncated(F.pdf_bytes([[MARKER]]), 0.7), ErrorCode.CORRUPT_PDF),
    (
        "garbled.pdf",
        lambda: b"%PDF-1.4\n" + MARKER_BYTES + b"\x8f\x01 garbage (" * 20 + b"\n%%EOF\n",
        ErrorCode.CORRUPT_PDF,
    ),
    ("scanned.pdf", lambda: F.pdf_bytes([[]], title=MARKER), ErrorCode.NO_TEXT_LAYER),
    ("encrypted.pdf", F.encrypted_pdf_bytes, ErrorCode.ENCRYPTED_PDF),
    # RTF
    ("text.rtf", lambda: F.txt_bytes(MARKER), ErrorCode.CORRUPT_RTF),
    ("truncated.rtf", lambda: ("{\\rtf1\\ansi{\\b " + MARKER).encode(), ErrorCode.CORRUPT_RTF),
    (
        "binary.rtf",
        lambda: b"{\\rtf1 " + MARKER_BYTES + b"\x00\x01" * 100 + b"}",
        ErrorCode.CORRUPT_RTF,
    ),
    (
        "no-text.rtf",
        lambda: ("{\\rtf1\\ansi{\\fonttbl{\\f0 " + MARKER + ";}}\\f0\\par}").encode(),
        ErrorCode.EMPTY,
    ),
    # HL7
    ("text.hl7", lambda: F.txt_bytes(MARKER), ErrorCode.BAD_HL7),
    ("binary.hl7", lambda: b"MSH|" + MARKER_BYTES + b"\x00\x01" * 100, ErrorCode.BAD_HL7),
    (
        "no-obr.hl7",
        lambda: F.hl7_message([]).replace("PID|1", f"OBX|1|TX|X||{MARKER}\rPID|1").encode(),
        ErrorCode.BAD_HL7,
    ),
    (
        "no-obr-no-obx.hl7",
        lambda: (F.hl7_message([]) + f"NTE|1||{MARKER}\r").encode(),
        ErrorCode.BAD_HL7,
    ),
    ("no-obx.hl7", lambda: F.hl7_message([(MARKER, "F1", [])]).encode(), ErrorCode.BAD_HL7),
    (
        "numeric-obx-only.hl7",
        lambda: F.hl7_message([("P1", "F1", [("NM", "1.254"), ("CE", MARKER)])]).encode(),
        ErrorCode.BAD_HL7,
    ),
    (
        "clashing-delimiters.hl7",
        lambda: F.hl7_report().replace("MSH|^~\\&", "MSH|^^\\&").replace("PID", MARKER).encode(),
        ErrorCode.BAD_HL7,
    ),
    (
        "blank-obx.hl7",
        lambda: F.hl7_message([("P1", "F1", [("TX", ""), ("FT", "\\.br\\")])]).encode(),
        ErrorCode.EMPTY,
    ),
    ("headers-only.hl7", lambda: f"FHS|^~\\&|{MARKER}\rFTS|1\r".encode(), ErrorCode.BAD_HL7),
    # FHIR JSON
    (
        "invalid.json",
        lambda: f'{{"resourceType": "DiagnosticReport", "conclusion": "{MARKER}"'.encode(),
        ErrorCode.BAD_JSON,
    ),
    ("latin1.json", lambda: b'{"conclusion": "' + MARKER_BYTES + b'\xe9\xff"}', ErrorCode.BAD_JSON),
    ("array.json", lambda: F.json_bytes([MARKER]), ErrorCode.BAD_FHIR),
    (
        "patient.json",
        lambda: F.json_bytes({"resourceType": "Patient", "name": [{"text": MARKER}]}),
        ErrorCode.BAD_FHIR,
    ),
    ("odd-resource-type.json", lambda: F.json_bytes({"resourceType": MARKER}), ErrorCode.BAD_FHIR),
    ("no-resource-type.json", lambda: F.json_bytes({"conclusion": MARKER}), ErrorCode.BAD_FHIR),
    (
        "bundle-without-report.json",
        lambda: F.json_bytes(F.bundle({"resourceType": "Patient", "name": [{"text": MARKER}]})),
        ErrorCode.BAD_FHIR,
    ),
    (
        "bad-base64.json",
        lambda: F.json_bytes(
            F.diagnostic_report(presentedForm=[{"contentType": "text/plain", "data": MARKER + "!"}])
        ),
        ErrorCode.BAD_FHIR,
    ),
    (
        "binary-form.json",
        lambda: F.json_bytes(
            F.diagnostic_report(
                presentedForm=[{"contentType": "text/plain", "data": "AAECAwQFBgcICQ=="}]
            )
        ),
        ErrorCode.BAD_FHIR,
    ),
    (
        "no-text.json",
        lambda: F.json_bytes(F.diagnostic_report(code={"text": MARKER})),
        ErrorCode.NO_REPORT_TEXT,
    ),
    (
        "url-only-form.json",
        lambda: F.json_bytes(
            F.diagnostic_report(presentedForm=[{"contentType": "text/plain", "url": MARKER}])
        ),
        ErrorCode.NO_REPORT_TEXT,
    ),
    ("empty.json", lambda: b"", ErrorCode.EMPTY),
]


@pytest.mark.parametrize(
    ("name", "build", "code"), BROKEN_FILES, ids=[name for name, _, _ in BROKEN_FILES]
)
def test_a_broken_file_gives_exactly_one_error_naming_the_file_but_not_its_text(
    tmp_path: Path, name: str, build: Callable[[], bytes], code: ErrorCode
) -> None:
    path = write(tmp_path, name, build())

    assert_single_error(read_path(path), path, code)


@pytest.mark.parametrize(
    ("name", "build", "code"), BROKEN_FILES, ids=[name for name, _, _ in BROKEN_FILES]
)
def test_reading_a_broken_file_logs_and_prints_nothing_of_its_content(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    name: str,
    build: Callable[[], bytes],
    code: ErrorCode,
) -> None:
    path = write(tmp_path, name, build())

    with caplog.at_level(logging.DEBUG):
        read_path(path)

    captured = capsys.readouterr()
    assert MARKER not in caplog.text
    assert MARKER not in captured.out + captured.err


def test_a_wrongly_named_file_is_described_by_its_kind_not_its_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "really-a-pdf.docx", F.pdf_bytes())

    (result,) = read_path(path)

    assert result.error is not None
    assert result.error.message == f"{path}: expected a .docx (zip) file, got a PDF"


def test_a_scanned_pdf_says_it_has_no_text_layer(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", F.pdf_bytes([[], []]))

    (result,) = read_path(path)

    assert result.error is not None
    assert result.error.message == f"{path}: has no text layer (scanned image?)"


def test_a_docx_that_unzips_past_the_limit_is_too_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "_MAX_UNZIPPED_BYTES", 10_000)
    path = write(tmp_path, "big.docx", F.docx_bytes())

    assert_single_error(read_path(path), path, ErrorCode.TOO_LARGE)


# --------------------------------------------------------------------------- file system


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = write(tmp_path, f"big{suffix}", MARKER_BYTES * 100)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(read, "open", no_open, raising=False)

    results = read_path(path, max_bytes=1000)

    assert_single_error(results, path, ErrorCode.TOO_LARGE)
    assert "1,000" in results[0].error.message


def test_the_default_size_limit_is_five_megabytes() -> None:
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"

    assert_single_error(read_path(path), path, ErrorCode.NOT_FOUND)


def test_a_dangling_symlink_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "link.txt"
    path.symlink_to(tmp_path / "target.txt")

    results = read_path(path)

    assert_single_error(results, path, ErrorCode.NOT_FOUND)
    assert "symlink" in results[0].error.message


def test_a_symlink_pointing_at_itself_is_a_symlink_loop(tmp_path: Path) -> None:
    path = tmp_path / "self.txt"
    path.symlink_to(path)

    assert_single_error(read_path(path), path, ErrorCode.SYMLINK_LOOP)


def test_a_file_that_cannot_be_opened_is_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "locked.txt", F.txt_bytes())

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # Root ignores file modes, so the refusal is simulated where open() is called.
    monkeypatch.setattr(read, "open", denied, raising=False)

    assert_single_error(read_path(path), path, ErrorCode.PERMISSION)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.txt", F.txt_bytes())
    path.chmod(0)

    assert_single_error(read_path(path), path, ErrorCode.PERMISSION)


def test_a_folder_is_not_a_report_file(tmp_path: Path) -> None:
    path = tmp_path / "folder.txt"
    path.mkdir()

    assert_single_error(read_path(path), path, ErrorCode.UNSUPPORTED)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)

    assert_single_error(read_path(path), path, ErrorCode.UNSUPPORTED)


@pytest.mark.parametrize("name", ["notes.doc", "scan.png", "README"])
def test_a_file_of_an_unsupported_type_is_unsupported(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, MARKER_BYTES)

    assert_single_error(read_path(path), path, ErrorCode.UNSUPPORTED)


def test_an_unexpected_failure_is_an_internal_error_that_quotes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(data: bytes) -> str:
        raise ValueError(f"parser choked on {MARKER}")

    monkeypatch.setattr(read, "_read_docx", explode)
    path = write(tmp_path, "boom.docx", F.docx_bytes())

    results = read_path(path)

    assert_single_error(results, path, ErrorCode.INTERNAL)
    assert "ValueError" in results[0].error.message


def test_read_path_accepts_a_string_and_keeps_it_as_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "reports/abc.txt", F.txt_bytes())
    monkeypatch.chdir(tmp_path)

    (result,) = read_path("./reports/abc.txt")

    assert (result.id, result.source) == ("abc", "./reports/abc.txt")


# --------------------------------------------------------------------------- discover


def make_tree(root: Path) -> None:
    for name in [
        "b/z.txt",
        "a/y.pdf",
        "a/sub/x.hl7",
        "a/sub/deeper/w.json",
        "a/notes.doc",
        "c.rtf",
        "image.png",
        "a/.DS_Store",
        "a/~$lock.docx",
        ".git/config.txt",
        "a/UPPER.DOCX",
    ]:
        write(root, name, b"x")


def test_discover_walks_folders_recursively_and_sorts_both_lists(tmp_path: Path) -> None:
    make_tree(tmp_path)

    supported, skipped = discover([tmp_path])

    assert supported == [
        tmp_path / "a/UPPER.DOCX",
        tmp_path / "a/sub/deeper/w.json",
        tmp_path / "a/sub/x.hl7",
        tmp_path / "a/y.pdf",
        tmp_path / "b/z.txt",
        tmp_path / "c.rtf",
    ]
    assert skipped == [
        tmp_path / "a/.DS_Store",
        tmp_path / "a/notes.doc",
        tmp_path / "a/~$lock.docx",
        tmp_path / "image.png",
    ]


def test_discover_keeps_explicit_files_and_lists_a_missing_one_for_reading(tmp_path: Path) -> None:
    make_tree(tmp_path)
    missing = tmp_path / "nope.txt"

    supported, skipped = discover(
        [tmp_path / "c.rtf", missing, tmp_path / "image.png", tmp_path / "b"]
    )

    assert supported == [tmp_path / "b/z.txt", tmp_path / "c.rtf", missing]
    assert skipped == [tmp_path / "image.png"]
    assert_single_error(read_path(missing), missing, ErrorCode.NOT_FOUND)


def test_discover_lists_each_file_once_when_paths_overlap(tmp_path: Path) -> None:
    make_tree(tmp_path)

    supported, _ = discover(
        [tmp_path / "a", tmp_path / "a/sub", tmp_path / "a/y.pdf", str(tmp_path / "a")]
    )

    assert supported == [
        tmp_path / "a/UPPER.DOCX",
        tmp_path / "a/sub/deeper/w.json",
        tmp_path / "a/sub/x.hl7",
        tmp_path / "a/y.pdf",
    ]


def test_discover_survives_symlink_loops(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "a/sub/up").symlink_to(tmp_path / "a")  # a/sub/up -> a: a loop
    (tmp_path / "a/self").symlink_to(tmp_path / "a/self")  # a link to itself
    (tmp_path / "a/loop.txt").symlink_to(tmp_path / "a/loop.txt")

    supported, skipped = discover([tmp_path])

    assert tmp_path / "a/y.pdf" in supported
    assert len(supported) == len(set(supported))
    assert not any("up" in path.parts for path in supported)
    assert tmp_path / "a/loop.txt" in supported  # so read_path can report the loop
    assert tmp_path / "a/self" in skipped
    assert_single_error(
        read_path(tmp_path / "a/loop.txt"), tmp_path / "a/loop.txt", ErrorCode.SYMLINK_LOOP
    )


def test_discover_follows_a_symlinked_folder_that_is_not_a_loop(tmp_path: Path) -> None:
    write(tmp_path, "elsewhere/r.txt", b"x")
    write(tmp_path, "root/s.txt", b"x")
    (tmp_path / "root/linked").symlink_to(tmp_path / "elsewhere")

    supported, _ = discover([tmp_path / "root"])

    assert supported == [tmp_path / "root/linked/r.txt", tmp_path / "root/s.txt"]


def test_discover_accepts_a_single_path_string(tmp_path: Path) -> None:
    write(tmp_path, "r.txt", b"x")

    assert discover(str(tmp_path)) == ([tmp_path / "r.txt"], [])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- iter_inputs


def test_iter_inputs_streams_every_report_in_discover_order(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", F.txt_bytes())
    write(
        tmp_path,
        "b.hl7",
        F.hl7_message([("P1", "F1", [("TX", "one")]), ("P2", "F2", [("TX", "two")])]).encode(),
    )
    write(tmp_path, "c.pdf", F.txt_bytes(MARKER))
    write(tmp_path, "d.png", b"x")

    inputs = iter_inputs([tmp_path])

    assert iter(inputs) is inputs  # lazy: nothing is read until asked for
    assert [(r.id, r.position, r.error.code if r.error else None) for r in inputs] == [
        ("a", None, None),
        ("F1", 1, None),
        ("F2", 2, None),
        ("c", None, ErrorCode.CORRUPT_PDF),
    ]


def test_iter_inputs_passes_the_size_limit_on(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", F.txt_bytes())

    (result,) = iter_inputs([tmp_path], max_bytes=10)

    assert result.error is not None
    assert result.error.code == ErrorCode.TOO_LARGE


def test_supported_suffixes_are_the_documented_formats() -> None:
    documented = {".txt", ".text", ".docx", ".pdf", ".rtf", ".hl7", ".json"}

    assert documented == SUPPORTED_SUFFIXES


# --------------------------------------------------------------------------- robustness

PREFIXES = [
    b"",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
    b"MSH|^~\\&|",
    b"{\\rtf1 ",
    b'{"resourceType": "Bundle", "entry": ',
]


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_read_path_never_raises_whatever_the_bytes(tmp_path: Path, suffix: str) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    path = tmp_path / f"fuzz{suffix}"

    @settings(max_examples=40, deadline=None, database=None)
    @given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=300))
    def check(prefix: bytes, body: bytes) -> None:
        path.write_bytes(prefix + body)
        results = read_path(path)
        assert results
        for result in results:
            assert (result.text is None) != (result.error is None)
            if result.error is not None:
                assert result.error.code != ErrorCode.INTERNAL, result.error.message

    check()


def test_discover_sources_gives_the_order_sorted_paths_give_for_names_that_sort_differently_as_text(
    tmp_path: Path,
) -> None:
    # As text "a-b" < "a/b" ("-" < "/"), but as paths a/b comes first: a part ends before "a-b" does.
    for name in ["a/b.txt", "a-b.txt", "a b/c.txt", "a.txt", "a/!x.txt", "a/b/c.txt", "A.txt", "é.txt", "a!/z.txt"]:
        write(tmp_path, name, b"x")

    sources, _ = discover_sources([tmp_path])
    supported, _ = discover([tmp_path])

    assert sources == [os.fspath(p) for p in sorted(tmp_path.rglob("*.txt"))]
    assert supported == [Path(s) for s in sources]


@pytest.mark.parametrize(
    "paths",
    [
        ["b", "a", ".", "a-b", "a/b", "a/b/c", "/z", "/a/b", "/a-b", "//a", "!x", " y", "~"],
        ["/tmp/x/a", "/tmp/x-a", "/tmp/x a", "/tmp/x/a/b", "/tmp", "/"],
    ],
)
def test_path_order_sorts_strings_exactly_as_path_objects_sort(paths: list[str]) -> None:
    normalised = [os.fspath(Path(p)) for p in paths]

    assert sorted(normalised, key=path_order) == [os.fspath(p) for p in sorted(map(Path, normalised))]


def test_a_path_holding_a_nul_byte_is_reported_as_not_found_rather_than_crashing_discovery() -> None:
    supported, skipped = discover_sources(["bad\x00name.txt"])

    assert supported == ["bad\x00name.txt"] and skipped == []
    [record] = read_path("bad\x00name.txt")
    assert record.error is not None and record.error.code is ErrorCode.NOT_FOUND
    assert "NUL byte" in record.error.message
