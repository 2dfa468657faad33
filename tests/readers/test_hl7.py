"""Reading HL7 v2: escapes, several messages and orders in one file, and one bad message among good ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers import read_path
from tbs_doccheck.readers.hl7 import _Delimiters, _hl7_unescape

try:  # the helpers sit beside these files; tests/ may or may not become a package
    from tests import formats as F
    from tests.readers.read_helpers import MARKER, content_lines, write
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]
    from read_helpers import MARKER, content_lines, write  # type: ignore[no-redef]


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
    delimiters = _Delimiters("|", "^", "~", "\\", "&")

    assert _hl7_unescape(raw, delimiters) == expected


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
