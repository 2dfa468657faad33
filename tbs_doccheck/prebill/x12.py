"""X12 837P (005010X222A1) claims: a separator-honouring tokenizer and the walk that turns CLM loops into Claims."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tbs_doccheck.prebill.contract import Claim, describe_validation_error
from tbs_doccheck.prebill.data import load_prebill_rules
from tbs_doccheck.prebill.people import classify_credential

#: GS08/ST03 versions accepted: every 005010X222 release of the 837 Professional guide.
PROFESSIONAL_VERSION = "005010X222"

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")


class X12Error(ValueError):
    """The file is not a readable 837P interchange (as a whole, not one claim in it)."""


@dataclass(frozen=True)
class Delimiters:
    """The separators an interchange declares in its ISA segment."""

    element: str
    component: str
    segment: str
    repetition: str | None = None


@dataclass(frozen=True)
class Segment:
    """One segment: its id and elements, addressed 1-based as the implementation guide numbers them."""

    tag: str
    elements: tuple[str, ...]
    delimiters: Delimiters
    position: int  # 1-based within its interchange, ISA being 1

    def el(self, n: int) -> str:
        """Element ``n`` (``NM103`` is ``el(3)``), or ``""`` when absent."""
        return self.elements[n - 1] if 0 < n <= len(self.elements) else ""

    def comp(self, n: int, k: int) -> str:
        """Component ``k`` of composite element ``n`` (``SV101-2`` is ``comp(1, 2)``), or ``""``."""
        parts = self.el(n).split(self.delimiters.component)
        return parts[k - 1] if 0 < k <= len(parts) else ""


def _isa_delimiters(text: str, start: int) -> tuple[Delimiters, int]:
    """Read the separators from the ISA at ``start``; return them and where the ISA ends.

    ISA is fixed-width (106 characters), but generators that trim its padding
    exist, so the sixteenth element separator is located rather than assumed
    to be at offset 103.
    """
    if len(text) < start + 4:
        raise X12Error("file ends inside the ISA segment")
    element = text[start + 3]
    at = start + 3
    for _ in range(15):
        at = text.find(element, at + 1)
        if at < 0:
            raise X12Error("ISA segment has fewer than 16 elements")
    if len(text) < at + 3:
        raise X12Error("file ends inside the ISA segment")
    component, segment = text[at + 1], text[at + 2]
    chosen = [element, component, segment]
    if len(set(chosen)) != 3 or any(c.isalnum() or c == " " for c in chosen):
        raise X12Error(
            f"ISA declares unusable separators: element {element!r}, component {component!r}, segment {segment!r}"
        )
    isa = text[start:at].split(element)
    # ISA11 is the repetition separator from 00501 on (it was the standards id "U" before).
    repetition = isa[11] if len(isa) > 12 and isa[12] >= "00501" and len(isa[11]) == 1 else None
    return Delimiters(element, component, segment, repetition), at + 3


def segments(data: str | bytes) -> Iterator[Segment]:
    """Split X12 text into segments, honouring each interchange's declared separators.

    Several interchanges may follow one another; each ISA re-declares its
    separators. Line breaks after segment terminators are ignored.

    Args:
        data: The file's content.

    Yields:
        Every segment, ISA and IEA included.

    Raises:
        X12Error: Not X12, a malformed ISA, a bad segment id, or an interchange without its IEA.
    """
    text = _decode(data)
    pos = 0
    while True:
        while pos < len(text) and text[pos] in "\ufeff \t\r\n":
            pos += 1
        if pos >= len(text):
            return
        if not text.startswith("ISA", pos):
            raise X12Error(f"expected an ISA segment at character {pos}, found {text[pos:pos + 3]!r}")
        delims, body = _isa_delimiters(text, pos)
        yield Segment("ISA", tuple(text[pos + 4 : body - 1].split(delims.element)), delims, 1)
        position, closed = 1, False
        while not closed:
            end = text.find(delims.segment, body)
            raw = text[body : len(text) if end < 0 else end]
            body = len(text) if end < 0 else end + 1
            raw = raw.lstrip().rstrip("\r\n")
            if not raw:
                if end < 0:
                    break
                continue
            position += 1
            tag, *elements = raw.split(delims.element)
            if end < 0 and tag != "IEA":  # text after the last terminator: the file was cut off
                break
            if not _TAG.fullmatch(tag):
                raise X12Error(f"segment {position}: {tag[:10]!r} is not a segment id")
            closed = tag == "IEA"
            yield Segment(tag, tuple(elements), delims, position)
        if not closed:
            raise X12Error("the interchange has no IEA segment: the file is truncated")
        pos = body


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # X12's extended character set is single-byte
        return data.decode("latin-1")


# --------------------------------------------------------------------------------------------
# The 837P walk
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class X12Claim:
    """One CLM loop: the claim it became, or why it could not become one."""

    claim_id: str
    claim: Claim | None
    error: str | None = None
    segment: int = 0  # the CLM segment's position in its interchange


def _date(qualifier: str, value: str) -> date:
    """A DTP date: ``D8`` CCYYMMDD, or ``RD8`` CCYYMMDD-CCYYMMDD whose first day is taken."""
    if qualifier == "D8" and re.fullmatch(r"\d{8}", value):
        text = value
    elif qualifier == "RD8" and re.fullmatch(r"\d{8}-\d{8}", value):
        text = value[:8]
    else:
        raise ValueError(f"date {value!r} with format {qualifier!r} is neither D8 nor RD8")
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _provider(nm1: Segment) -> dict[str, Any]:
    """NM1 -> the Provider fields. NM107 is a name suffix; some submitters put the credential there."""
    person = nm1.el(2) == "1"
    out: dict[str, Any] = {"entity": "person" if person else "organization"}
    if person:
        suffix = nm1.el(7)
        credential = suffix if suffix and classify_credential(suffix, load_prebill_rules()) != "unknown" else ""
        names = [nm1.el(4), nm1.el(5), nm1.el(3), "" if credential else suffix]
        out["name"] = " ".join(n for n in names if n)
        if credential:
            out["credential"] = credential
    else:
        out["name"] = nm1.el(3)
    if nm1.el(8) == "XX" and nm1.el(9):
        out["npi"] = nm1.el(9)
    return out


@dataclass
class _ClaimDraft:
    """A CLM loop being read."""

    claim_id: str
    segment: int
    patient_id: str | None
    billing: dict[str, Any] | None
    dos: date | None = None
    rendering: dict[str, Any] | None = None
    payer: dict[str, str] | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_nm1: str = ""  # entity code of the NM1 a following PRV belongs to

    def finish(self) -> X12Claim:
        if not self.lines and not self.errors:
            self.errors.append("no SV1 service line")
        if self.errors:
            return X12Claim(self.claim_id, None, "; ".join(self.errors), self.segment)
        payload = {
            "claim_id": self.claim_id,
            "patient_id": self.patient_id,
            "date_of_service": self.dos,
            "lines": self.lines,
            "rendering_provider": self.rendering or self.billing,
            "payer": self.payer,
        }
        try:
            return X12Claim(self.claim_id, Claim.model_validate(payload), None, self.segment)
        except ValidationError as exc:
            return X12Claim(self.claim_id, None, describe_validation_error(exc), self.segment)


class _Walk:
    """State while walking one file's segments: the current billing provider, subscriber, patient, claim, line."""

    def __init__(self) -> None:
        self.claims: list[X12Claim] = []
        self.claim: _ClaimDraft | None = None
        self.line: dict[str, Any] | None = None
        self.hl_level = ""
        self.billing: dict[str, Any] | None = None
        self.billing_taxonomy: str | None = None
        self.subscriber_id: str | None = None
        self.payer: dict[str, str] | None = None
        self.patient_key: str | None = None
        self.patient_dob = ""
        self.st_control: str | None = None
        self.st_start = 0

    def close_claim(self) -> None:
        if self.claim is not None:
            self.claims.append(self.claim.finish())
        self.claim, self.line = None, None

    def patient_id(self) -> str | None:
        if self.subscriber_id is None:
            return None
        if self.hl_level == "23" and self.patient_key:
            # A dependent has no id of their own in 5010: subscriber id + name + birth date tells them apart.
            return f"{self.subscriber_id}:{self.patient_key}:{self.patient_dob}"
        return self.subscriber_id

    def feed(self, seg: Segment) -> None:
        handler = getattr(self, f"_on_{seg.tag}", None)
        if handler is not None:
            handler(seg)

    def _on_GS(self, seg: Segment) -> None:
        if seg.el(1) != "HC":
            raise X12Error(f"segment {seg.position}: functional group {seg.el(1)!r} is not health care claims (HC)")
        if seg.el(8) and not seg.el(8).startswith(PROFESSIONAL_VERSION):
            raise X12Error(
                f"segment {seg.position}: version {seg.el(8)!r} is not the 837 Professional ({PROFESSIONAL_VERSION}A1)"
            )

    def _on_ST(self, seg: Segment) -> None:
        if seg.el(1) != "837":
            raise X12Error(f"segment {seg.position}: transaction set {seg.el(1)!r} is not an 837")
        if seg.el(3) and not seg.el(3).startswith(PROFESSIONAL_VERSION):
            raise X12Error(
                f"segment {seg.position}: version {seg.el(3)!r} is not the 837 Professional ({PROFESSIONAL_VERSION}A1)"
            )
        self.st_control, self.st_start = seg.el(2), seg.position
        self.hl_level, self.billing, self.billing_taxonomy = "", None, None

    def _on_SE(self, seg: Segment) -> None:
        self.close_claim()
        counted = seg.position - self.st_start + 1
        if self.st_control is None:
            raise X12Error(f"segment {seg.position}: SE without ST")
        if seg.el(1) != str(counted):
            # A wrong count means lost or extra segments: claims may be missing lines.
            raise X12Error(f"segment {seg.position}: SE01 says {seg.el(1)!r} segments, the transaction has {counted}")
        if seg.el(2) != self.st_control:
            raise X12Error(f"segment {seg.position}: SE02 {seg.el(2)!r} does not match ST02 {self.st_control!r}")
        self.st_control = None

    def _on_IEA(self, seg: Segment) -> None:
        if self.st_control is not None:
            raise X12Error(f"segment {seg.position}: transaction {self.st_control!r} has no SE: the file is truncated")

    def _on_HL(self, seg: Segment) -> None:
        self.close_claim()
        self.hl_level = seg.el(3)
        if self.hl_level == "20":  # 2000A billing provider: everything below changes
            self.billing, self.billing_taxonomy = None, None
            self.subscriber_id, self.patient_key, self.patient_dob = None, None, ""
            self.payer = None
        elif self.hl_level == "22":  # 2000B subscriber
            self.subscriber_id, self.patient_key, self.patient_dob = None, None, ""
            self.payer = None
        elif self.hl_level == "23":  # 2000C patient (not the subscriber)
            self.patient_key, self.patient_dob = None, ""

    def _on_PRV(self, seg: Segment) -> None:
        taxonomy = seg.el(3) if seg.el(2) == "PXC" else ""
        if not taxonomy:
            return
        if self.claim is None:
            if seg.el(1) == "BI" and self.hl_level == "20":  # 2000A billing provider specialty
                self.billing_taxonomy = taxonomy
                if self.billing is not None:
                    self.billing["taxonomy"] = taxonomy
            return
        if seg.el(1) == "PE" and self.claim.last_nm1 == "82":  # 2310B or 2420A rendering provider specialty
            target = self.line.get("rendering_provider") if self.line is not None else self.claim.rendering
            if target is not None:
                target["taxonomy"] = taxonomy

    def _on_NM1(self, seg: Segment) -> None:
        entity = seg.el(1)
        if self.claim is None:
            if entity == "85" and self.hl_level == "20":
                self.billing = _provider(seg)
                if self.billing_taxonomy:
                    self.billing["taxonomy"] = self.billing_taxonomy
            elif entity == "IL" and self.hl_level == "22":
                self.subscriber_id = seg.el(9) or None
            elif entity == "PR" and self.hl_level == "22":  # 2010BB payer: NM103 name, NM109 payer id
                self.payer = {k: v for k, v in (("name", seg.el(3)), ("id", seg.el(9))) if v} or None
            elif entity == "QC" and self.hl_level == "23":
                self.patient_key = f"{seg.el(3)}:{seg.el(4)}".upper()
            return
        self.claim.last_nm1 = entity
        if entity == "82":
            if self.line is not None:
                self.line["rendering_provider"] = _provider(seg)
            else:
                self.claim.rendering = _provider(seg)

    def _on_DMG(self, seg: Segment) -> None:
        if self.claim is None and self.hl_level == "23":
            self.patient_dob = seg.el(2)

    def _on_SBR(self, seg: Segment) -> None:
        if self.claim is not None:  # 2320 other subscriber: its NM1s are not providers
            self.claim.last_nm1 = ""

    def _on_CLM(self, seg: Segment) -> None:
        self.close_claim()
        if self.hl_level not in ("22", "23"):
            raise X12Error(f"segment {seg.position}: CLM outside a subscriber or patient HL loop")
        billing = dict(self.billing) if self.billing else None
        self.claim = _ClaimDraft(seg.el(1), seg.position, self.patient_id(), billing, payer=self.payer)
        if not seg.el(1):
            self.claim.errors.append(f"segment {seg.position}: CLM01 (claim id) is empty")

    def _on_LX(self, seg: Segment) -> None:
        if self.claim is None:
            raise X12Error(f"segment {seg.position}: LX outside a claim")
        self.line = {"lx": seg.el(1)}
        self.claim.last_nm1 = ""

    def _on_SV1(self, seg: Segment) -> None:
        if self.claim is None or self.line is None:
            raise X12Error(f"segment {seg.position}: SV1 outside a service line (LX)")
        if "code" in self.line:
            self.claim.errors.append(f"segment {seg.position}: second SV1 in service line {self.line['lx']}")
            return
        self.line["code"] = seg.comp(1, 2)
        self.line["modifiers"] = [m for m in (seg.comp(1, k) for k in range(3, 7)) if m]
        units = seg.el(4)
        try:
            value = Decimal(units)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value != value.to_integral_value() or value < 1:
            self.claim.errors.append(
                f"service line {self.line['lx']}: SV104 units {units!r} is not a whole number of at least 1"
            )
            return
        self.line["units"] = int(value)
        self.claim.lines.append(self.line)

    def _on_DTP(self, seg: Segment) -> None:
        if self.claim is None or seg.el(1) != "472":
            return
        try:
            when = _date(seg.el(2), seg.el(3))
        except ValueError as exc:
            self.claim.errors.append(f"segment {seg.position}: DTP*472 {exc}")
            return
        if self.line is not None:
            self.line["date_of_service"] = when
        else:
            self.claim.dos = when


def parse_837p(data: str | bytes) -> list[X12Claim]:
    """Read every claim of an 837P file.

    CLM01 is the claim id; each SV1 gives a line's code (SV101-2), modifiers
    (SV101-3..6) and units (SV104); DTP*472 dates a line, or the claim when it
    comes before the first LX; NM1*82 (with PRV*PE) is the rendering provider,
    per claim (2310B) or per line (2420A); without one, the billing provider
    (NM1*85 with PRV*BI) renders. The patient is the subscriber's member id,
    plus name and birth date for a dependent (2000C). The payer is the
    subscriber's NM1*PR (2010BB): NM103 its name, NM109 its id.

    Args:
        data: The file's content.

    Returns:
        One entry per CLM, in file order; a claim that could not be read carries ``error``.

    Raises:
        X12Error: The file as a whole is not a readable 837P.
    """
    walk = _Walk()
    seen_isa = False
    for seg in segments(data):
        seen_isa = True
        walk.feed(seg)
    if not seen_isa:
        raise X12Error("the file is empty")
    return walk.claims


def read_837p(path: Path) -> list[X12Claim]:
    """Read every claim of an 837P file on disk.

    Args:
        path: The file.

    Returns:
        As :func:`parse_837p`.

    Raises:
        X12Error: The file is not a readable 837P.
        OSError: The file could not be opened.
    """
    return parse_837p(path.read_bytes())


def looks_like_x12(data: bytes) -> bool:
    """Whether a file's first bytes are an ISA segment (after a BOM or whitespace)."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"ISA")
