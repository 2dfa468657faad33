"""Builders for report files in every supported format, made at test time from one report text."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Sequence

import docx
from pypdf import PdfReader, PdfWriter

#: One complete TBS report. Every good file of every format holds exactly these lines.
#: "|", "&", "~" and "%" are HL7 delimiters in one test or another, so they get escaped.
REPORT_LINES: tuple[str, ...] = (
    "TRABECULAR BONE SCORE (TBS) REPORT",
    "Imaging source: DXA of the lumbar spine acquired 2024-03-01 on a Hologic Horizon A",
    "TBS L1-L4: 1.254",
    "Interpretation: partially degraded microarchitecture (1.200 - 1.350)",
    "Fracture risk: TBS-adjusted FRAX major osteoporotic 12.5% | hip 1.9%",
    "Recommendations: calcium & vitamin D; repeat DXA with TBS in ~2 years",
    "Electronically signed by Jane Roe, MD on 2024-03-02",
)
REPORT_TEXT = "\n".join(REPORT_LINES) + "\n"

#: Planted in the content of broken files: it must never show up in an error message or a log.
MARKER = "ZZQX-PATIENT-SECRET-7731"

DEFAULT_DELIMITERS = "|^~\\&"  # field, component, repetition, escape, subcomponent
ODD_DELIMITERS = "#$*@%"


# --------------------------------------------------------------------------- text


def txt_bytes(text: str = REPORT_TEXT, *, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """The text with the given line ending and encoding ("utf-8-sig", "utf-16" add a BOM)."""
    return text.replace("\n", newline).encode(encoding)


# --------------------------------------------------------------------------- .docx


def docx_bytes(
    before: Sequence[str] = REPORT_LINES,
    table: Sequence[Sequence[str]] = (),
    after: Sequence[str] = (),
) -> bytes:
    """A Word document: paragraphs, then an optional table, then more paragraphs."""
    document = docx.Document()
    for line in before:
        document.add_paragraph(line)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    for line in after:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deflated zip archive of the given members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb_docx_bytes() -> bytes:
    """A .docx-shaped zip whose document part compresses about 1000:1."""
    return zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document>" + MARKER.encode() + b" " * (4 * 1024 * 1024),
        }
    )


# --------------------------------------------------------------------------- .pdf


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(
    pages: Sequence[Sequence[str]] = (REPORT_LINES,), *, title: str | None = None
) -> bytes:
    """A minimal hand-written PDF: one Helvetica text line per string, one page per list.

    A page given no lines gets a grey rectangle instead, like a scanned image: something
    to see, nothing to extract.
    """
    objects: dict[int, bytes] = {}
    page_ids = []
    next_id = 4  # 1 catalog, 2 page tree, 3 font
    for lines in pages:
        page_id, content_id = next_id, next_id + 1
        next_id += 2
        page_ids.append(page_id)
        if lines:
            ops = ["BT", "/F1 11 Tf", "14 TL", "56 760 Td"]
            ops += [f"{_pdf_string(line)} Tj T*" for line in lines]
            ops.append("ET")
        else:
            ops = ["0.6 g", "56 400 480 360 re f"]
        stream = "\n".join(ops).encode("cp1252")
        objects[content_id] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids).encode()
    objects[2] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)
    objects[3] = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    info_ref = b""
    if title is not None:
        objects[next_id] = b"<< /Title " + _pdf_string(title).encode("cp1252") + b" >>"
        info_ref = b" /Info %d 0 R" % next_id
        next_id += 1

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % next_id
    for number in range(1, next_id):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R" % next_id + info_ref + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def encrypted_pdf_bytes(user_password: str = "s3cret", owner_password: str = "owner") -> bytes:
    """The report PDF encrypted with RC4 (which pypdf handles without extra packages)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- .rtf

#: The report as WordPad would save it (lines end in \par; raw newlines mean nothing in RTF).
RTF_REPORT = (
    r"{\rtf1\ansi\ansicpg1252\deff0\nouicompat{\fonttbl{\f0\fswiss\fcharset0 Helvetica;}}"
    "\n"
    r"{\*\generator Riched20 10.0.19041}\viewkind4\uc1"
    "\n"
    r"\pard\sa200\sl276\slmult1\b\f0\fs22 TRABECULAR BONE SCORE (TBS) REPORT\b0\par"
    "\n"
    r"Imaging source: DXA of the lumbar spine acquired 2024-03-01 on a Hologic Horizon A\par"
    "\n"
    r"TBS L1-L4: 1.254\par"
    "\n"
    r"Interpretation: partially degraded microarchitecture (1.200 - 1.350)\par"
    "\n"
    r"Fracture risk: TBS-adjusted FRAX major osteoporotic 12.5% | hip 1.9%\par"
    "\n"
    r"Recommendations: calcium & vitamin D; repeat DXA with TBS in ~2 years\par"
    "\n"
    r"Electronically signed by Jane Roe, MD on 2024-03-02\par"
    "\n}\n"
)


# --------------------------------------------------------------------------- .hl7


def hl7_escape(text: str, delimiters: str = DEFAULT_DELIMITERS) -> str:
    """Escapes the delimiters in free text the way a sending system must."""
    field, component, repetition, escape, subcomponent = delimiters
    codes = {escape: "E", field: "F", component: "S", repetition: "R", subcomponent: "T"}
    return "".join(f"{escape}{codes[char]}{escape}" if char in codes else char for char in text)


def report_obx_values(
    lines: Sequence[str] = REPORT_LINES, delimiters: str = DEFAULT_DELIMITERS
) -> list[tuple[str, str]]:
    """(value type, OBX-5) pairs that spell ``lines`` using every text convention.

    The first two lines are repetitions of one TX field, the last two one FT field split
    by a ``.br`` escape, and the rest one TX OBX each. A numeric OBX rides along and must
    be ignored.
    """
    escape, repetition = delimiters[3], delimiters[2]
    values = [
        ("TX", hl7_escape(lines[0], delimiters) + repetition + hl7_escape(lines[1], delimiters))
    ]
    values += [("TX", hl7_escape(line, delimiters)) for line in lines[2:-2]]
    values.append(("NM", "1.254"))
    values.append(
        (
            "FT",
            hl7_escape(lines[-2], delimiters)
            + f"{escape}.br{escape}"
            + hl7_escape(lines[-1], delimiters),
        )
    )
    return values


def hl7_message(
    orders: Sequence[tuple[str, str, Sequence[tuple[str, str]]]],
    *,
    delimiters: str = DEFAULT_DELIMITERS,
    control_id: str = "MSG00001",
    segment_end: str = "\r",
) -> str:
    """An ORU^R01 message with one OBR per (placer, filler, OBX values) order."""
    f, c = delimiters[0], delimiters[1]
    segments = [
        f"MSH{f}{delimiters[1:]}{f}RIS{f}HOSP{f}EMR{f}HOSP{f}20240302101500{f}{f}ORU{c}R01{f}"
        f"{control_id}{f}P{f}2.5.1",
        f"PID{f}1{f}{f}000123{c}{c}{c}HOSP{c}MR{f}{f}ROE{c}JANE",
    ]
    for index, (placer, filler, values) in enumerate(orders, start=1):
        segments.append(f"OBR{f}{index}{f}{placer}{f}{filler}{f}77092{c}TBS{c}C4")
        for number, (value_type, value) in enumerate(values, start=1):
            segments.append(
                f"OBX{f}{number}{f}{value_type}{f}77092{c}TBS REPORT{c}C4{f}{f}{value}"
                f"{f}{f}{f}{f}{f}{f}F"
            )
    return segment_end.join(segments) + segment_end


def hl7_report(*, delimiters: str = DEFAULT_DELIMITERS, segment_end: str = "\r") -> str:
    """One message with one OBR holding the whole report."""
    return hl7_message(
        [("PLAC-1", "FILL-1", report_obx_values(delimiters=delimiters))],
        delimiters=delimiters,
        segment_end=segment_end,
    )


# --------------------------------------------------------------------------- FHIR


def attachment(content_type: str, text: str) -> dict:
    return {"contentType": content_type, "data": base64.b64encode(text.encode("utf-8")).decode()}


def diagnostic_report(resource_id: str | None = "tbs-1", **fields: object) -> dict:
    """A FHIR R4 DiagnosticReport with the given extra fields."""
    resource: dict = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "77092"}]},
    }
    if resource_id is not None:
        resource["id"] = resource_id
    resource.update(fields)
    return resource


def report_as_html() -> str:
    """The report as an HTML fragment: a heading, <br> breaks, a list, and a table row."""
    l0, l1, l2, l3, l4, l5, l6 = REPORT_LINES
    return (
        f"<html><head><style>p {{ margin: 0 }}</style></head><body><h1>{l0}</h1>\n"
        f"<p>{l1}<br/>{l2}</p>\n<div>{l3.replace('-', '&#45;', 1)}</div>\n"
        f"<ul><li>{l4}</li>\n  <li>{l5.replace('&', '&amp;')}</li></ul>\n"
        f"<table><tr><td>{l6}</td></tr></table></body></html>"
    )


def narrative(lines: Sequence[str]) -> dict:
    body = "".join(f"<p>{line.replace('&', '&amp;')}</p>" for line in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def bundle(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{n}", "resource": r} for n, r in enumerate(resources)],
    }


def json_bytes(document: object) -> bytes:
    return json.dumps(document, indent=2).encode("utf-8")
