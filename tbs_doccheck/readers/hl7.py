"""HL7 v2: one report per OBR of every message in the file, from the text of its OBX results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers.base import _describe, _describe_binary, _Item, _normalise_newlines, _Unreadable
from tbs_doccheck.readers.text import _decode_text

if TYPE_CHECKING:
    from hl7 import Message, Segment

_HL7_TEXT_TYPES = frozenset({"TX", "FT", "ST", ""})
_HL7_FRAMING = (b"\x0b", b"\x1c")  # MLLP start/end bytes left in captured feeds


@dataclass(frozen=True)
class _Delimiters:
    field: str
    component: str
    repetition: str
    escape: str
    subcomponent: str


def _read_hl7(data: bytes) -> list[_Item]:
    """One item per OBR of every message in the file."""
    for framing in _HL7_FRAMING:
        data = data.replace(framing, b"")
    try:
        text = _decode_text(data)
    except _Unreadable:
        raise _Unreadable(
            ErrorCode.BAD_HL7, f"expected HL7 v2 text, got {_describe_binary(data)}"
        ) from None
    segments = [segment.strip() for segment in text.split("\n")]
    segments = [segment for segment in segments if segment]
    if not segments or segments[0][:3] not in ("MSH", "FHS", "BHS"):
        raise _Unreadable(
            ErrorCode.BAD_HL7,
            f"expected HL7 v2 messages starting with an MSH segment, got {_describe(data)}",
        )

    messages: list[list[str]] = []
    for segment in segments:
        kind = segment[:3]
        if kind in ("FHS", "BHS", "FTS", "BTS"):
            continue  # file and batch envelopes carry no report
        if kind == "MSH":
            messages.append([segment])
        elif messages:
            messages[-1].append(segment)
    if not messages:
        raise _Unreadable(
            ErrorCode.BAD_HL7, "has HL7 file/batch headers but no MSH segment (no message)"
        )

    items: list[_Item] = []
    for number, message in enumerate(messages, start=1):
        items.extend(_hl7_message(message, number))
    return items


def _hl7_message(segments: list[str], number: int) -> list[_Item]:
    delimiters = _hl7_delimiters(segments[0])
    if delimiters is None:
        return [
            _Item(
                None,
                code=ErrorCode.BAD_HL7,
                problem=f"message {number}: the MSH segment does not declare valid delimiters",
            )
        ]

    import hl7  # imported on first use

    try:
        # The package reads the delimiters from MSH itself, odd ones included.
        message = hl7.parse("\r".join(segments))
    except Exception as exc:  # noqa: BLE001 - the parser's exceptions are not documented
        return [
            _Item(
                None,
                code=ErrorCode.BAD_HL7,
                problem=f"message {number} could not be parsed as HL7 ({type(exc).__name__})",
            )
        ]

    orders, orphan_results = _hl7_orders(message)
    if not orders:
        missing = (
            "has OBX segments but no OBR segment before them"
            if orphan_results
            else "has no OBR or OBX segments (no report in it)"
        )
        return [_Item(None, code=ErrorCode.BAD_HL7, problem=f"message {number} {missing}")]

    return [
        _hl7_order(order, results, delimiters, f"message {number}, OBR {index}")
        for index, (order, results) in enumerate(orders, start=1)
    ]


def _hl7_orders(message: Message) -> tuple[list[tuple[Segment, list[Segment]]], int]:
    """Each OBR with the OBX segments after it, and how many OBX segments came before any OBR."""
    orders: list[tuple[Segment, list[Segment]]] = []
    orphan_results = 0
    for segment in message:
        name = str(segment[0]).strip()
        if name == "OBR":
            orders.append((segment, []))
        elif name == "OBX":
            if orders:
                orders[-1][1].append(segment)
            else:
                orphan_results += 1
    return orders, orphan_results


def _hl7_order(order: Segment, results: list[Segment], delimiters: _Delimiters, where: str) -> _Item:
    """The report of one OBR: the text of its TX, FT and ST results, or why it has none."""
    report_id = _hl7_first_component(order, 3, delimiters) or _hl7_first_component(
        order, 2, delimiters
    )
    if not results:
        return _Item(
            report_id,
            code=ErrorCode.BAD_HL7,
            problem=f"{where} has no OBX segments after it",
        )
    lines: list[str] = []
    text_results = 0
    for result in results:
        value_type = _hl7_first_component(result, 2, delimiters).upper()
        if value_type not in _HL7_TEXT_TYPES:
            continue  # coded and numeric results repeat what the text says
        text_results += 1
        for repetition in _hl7_field(result, 5).split(delimiters.repetition):
            lines.append(_hl7_unescape(repetition, delimiters))
    if not text_results:
        return _Item(
            report_id,
            code=ErrorCode.BAD_HL7,
            problem=f"{where} has no text OBX segments (value type TX, FT or ST)",
        )
    text = _normalise_newlines("\n".join(lines))
    if not text.strip():
        return _Item(
            report_id,
            code=ErrorCode.EMPTY,
            problem=f"{where} has OBX segments with no text",
        )
    return _Item(report_id, text=text)


def _hl7_delimiters(msh: str) -> _Delimiters | None:
    """The message's own delimiters, or None when MSH-1/MSH-2 make no sense."""
    if len(msh) < 8:
        return None
    field = msh[3]
    end = msh.find(field, 4)
    encoding = msh[4:end] if end != -1 else msh[4:]
    if len(encoding) < 4:
        return None
    chars = [field, *encoding[:4]]
    if len(set(chars)) != len(chars) or any(c.isalnum() or c.isspace() for c in chars):
        return None
    component, repetition, escape, subcomponent = encoding[:4]
    return _Delimiters(field, component, repetition, escape, subcomponent)


def _hl7_field(segment: Segment, index: int) -> str:
    return str(segment[index]) if len(segment) > index else ""


def _hl7_first_component(segment: Segment, index: int, delimiters: _Delimiters) -> str:
    value = _hl7_field(segment, index).split(delimiters.repetition)[0]
    value = value.split(delimiters.component)[0]
    return _hl7_unescape(value, delimiters).strip()


def _hl7_unescape(value: str, delimiters: _Delimiters) -> str:
    """Resolves HL7 escape sequences (\\F\\, \\.br\\, \\X0D\\...) to the text they stand for.

    Written here rather than using ``hl7.unescape``, which logs the whole field (report
    text) when it meets a sequence it does not know.
    """
    escape = delimiters.escape
    if escape not in value:
        return value
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char != escape:
            out.append(char)
            index += 1
            continue
        close = value.find(escape, index + 1)
        if close == -1:
            out.append(value[index:])  # an unterminated escape is literal text
            break
        out.append(_hl7_escape_sequence(value[index + 1 : close], delimiters))
        index = close + 1
    return "".join(out)


def _hl7_escape_sequence(sequence: str, delimiters: _Delimiters) -> str:
    simple = {
        "F": delimiters.field,
        "S": delimiters.component,
        "T": delimiters.subcomponent,
        "R": delimiters.repetition,
        "E": delimiters.escape,
        "H": "",  # highlighting on/off has no plain-text meaning
        "N": "",
        ".br": "\n",
        ".ce": "\n",
        ".fi": "",
        ".nf": "",
    }
    if sequence in simple:
        return simple[sequence]
    if sequence.startswith((".sp", ".sk", ".in", ".ti")):
        try:
            count = int(sequence[3:] or "1")
        except ValueError:
            return ""
        count = max(0, min(count, 100))  # a bogus count must not blow up the text
        if sequence.startswith(".sp"):
            return "\n" * max(count, 1)
        if sequence.startswith(".sk"):
            return " " * count
        return ""  # indents only matter to a printer
    if sequence.startswith("X"):
        try:
            raw = bytes.fromhex(sequence[1:])
        except ValueError:
            return ""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return ""  # character-set switches (C, M) and site-defined (Z) sequences: dropped
