"""Reading broken files: each gives exactly one error that names the file and never quotes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers import SUPPORTED_SUFFIXES, read_path
from tbs_doccheck.readers import docx as docx_reader

try:  # the helpers sit beside these files; tests/ may or may not become a package
    from tests import formats as F
    from tests.readers.read_helpers import MARKER, MARKER_BYTES, assert_single_error, write
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]
    from read_helpers import MARKER, MARKER_BYTES, assert_single_error, write  # type: ignore[no-redef]


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
    monkeypatch.setattr(docx_reader, "_MAX_UNZIPPED_BYTES", 10_000)
    path = write(tmp_path, "big.docx", F.docx_bytes())

    assert_single_error(read_path(path), path, ErrorCode.TOO_LARGE)


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
