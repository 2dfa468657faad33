"""Document structure the element rules read through, always as offsets into the original text.

* **Tables**: a line is cut into cells (pipes, tabs, runs of spaces, dotted leaders); the header
  lines above a row give each cell its column (a study date, "current"/"prior", a change, a
  reference range, another measure), and the column's role says whether a number in it belongs to
  this study.
* **Report parts**: addenda, amendments and corrections after the original report, each with its
  extent, so a later signed part can override or withdraw what the original stated.
* **HL7 segments**: an ``OBX`` segment's fields (identifier, value, reference range, status).
* **Markup**: HTML tags and entities and HL7 escapes inside a stretch of text read as what they
  encode (for checks only; offsets are never taken from the decoded copy).

Nothing here knows about TBS; the callers pass what a value looks like.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# -- cells -------------------------------------------------------------------------------------

#: A cell of a line that is not a pipe table: words joined by single spaces. Two spaces, a tab or a
#: pipe end it; a dotted leader inside it ("Name ........ value") splits it again (:data:`_LEADER`).
_CELL = re.compile(r"[^|\t ]+(?: [^|\t ]+)*")
_LEADER = re.compile(r"(?:^| )[.…]{2,}(?: |$)")
#: An HL7 segment line (``OBX|``, ``MSH|``): its pipes are fields, not table columns.
_SEGMENT = re.compile(r"[A-Z][A-Z0-9]{2}\|")
#: A rule line under a header: dashes, equals signs, pluses, pipes.
_RULE_LINE = re.compile(r"[ \t|:+=_~\-–—]*")
_MAX_LINE = 400
_MAX_UP = 14
_MAX_DOWN = 16


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of a table line.

    Attributes:
        start: Offset of its first character in the text.
        end: Offset just after its last character.
        text: ``text[start:end]``.
        col: Its horizontal position (start, end) on the line, or its index in a pipe or tab row as (i, i + 1).
        piped: Whether the line is a pipe- or tab-separated row (columns by index, not by position).
    """

    start: int
    end: int
    text: str
    col: tuple[int, int]
    piped: bool


def line_bounds(text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the line holding ``pos``."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end == -1 else end


def line_cells(text: str, start: int, end: int) -> list[Cell]:
    """The cells of ``text[start:end]`` (one line), with their offsets.

    Pipes or tabs separate indexed cells (an empty cell between two separators counts); otherwise
    cells are words joined by single spaces, placed by their horizontal position.
    """
    if end - start > _MAX_LINE:
        return []
    line = text[start:end]
    sep = "|" if "|" in line and not _SEGMENT.match(line) else "\t" if "\t" in line.strip() else None
    if sep is not None:
        cells: list[Cell] = []
        body_from = 0
        stripped = line.rstrip()
        if sep == "|" and line.lstrip().startswith("|") and line.index("|") < 2:
            # A pipe at the line start is the table's border. After a run of spaces it separates an
            # empty label cell from the first value column (a header above rows that open with labels).
            body_from = line.index("|") + 1
        elif sep == "\t":
            body_from = len(line) - len(line.lstrip())
        closed = sep == "|" and stripped.endswith("|") and len(stripped) - 1 >= body_from
        body_to = len(stripped) - 1 if closed else len(stripped)
        pos = body_from
        for i, piece in enumerate(line[body_from:body_to].split(sep)):
            lead = len(piece) - len(piece.lstrip())
            word = piece.strip()
            s = start + pos + lead
            cells.append(Cell(s, s + len(word), word, (i, i + 1), True))
            pos += len(piece) + 1
        return cells
    out = []
    for m in _CELL.finditer(line):
        at = m.start()
        for piece in _LEADER.split(m.group()) if "." in m.group() or "…" in m.group() else (m.group(),):
            k = line.find(piece, at) if piece else -1
            if k >= 0:
                out.append(Cell(start + k, start + k + len(piece), piece, (k, k + len(piece)), False))
                at = k + len(piece)
    return out


def is_padding(line: str) -> bool:
    """Whether a blank line is the space left by blanked-out markup (``</tr>`` → a line of spaces), not a gap."""
    return len(line) >= 3 and not line.strip(" ")


def is_rule_line(text: str, start: int, end: int) -> bool:
    """Whether a line is a table rule (``-----+-----``, ``=====``) rather than content."""
    line = text[start:end]
    return bool(line.strip()) and _RULE_LINE.fullmatch(line) is not None


# -- column roles --------------------------------------------------------------------------------

#: What a column (or a row label) says about the study its numbers come from.
CURRENT, PRIOR, CHANGE, REFERENCE, OTHER = "current", "prior", "change", "reference", "other measure"

_OTHER_MEASURE = re.compile(
    r"\b(?:[TZ][\s-]*scores?|BMD|BMC|area|categor\w*|classification|class|SD|g/cm2?|g/cm²|FRAX|MOF)\b|^[TZ]$", re.I
)
_REFERENCE = re.compile(
    r"\b(?:ref\w*|normal|norms?|range|expected|age[\s-]*matched|young[\s-]*adult|cut[\s-]*offs?|thresholds?|flags?|"
    r"units?|limits?|interval)\b",
    re.I,
)
_CHANGE = re.compile(r"\b(?:change[sd]?|chg|delta|diff\w*|trend|vs\.?|versus|lsc|significan\w*|abs)\b|[Δ±%]|\+/-", re.I)
_CURRENT = re.compile(
    r"\b(?:current|curr|today|today's|now|this\s+(?:study|exam\w*|scan|visit|test)|present|latest|most\s+recent|"
    r"follow[\s-]?up|aktuell\w*|actuel\w*|actual|huidig\w*|heute|hoy)\b",
    re.I,
)
_PRIOR = re.compile(
    r"\b(?:prior|previous|prev|pre|baseline|last|earlier|older|old|initial|comparison|vorher\w*|vorbefund|vorig\w*|"
    r"pr[ée]c[ée]dent\w*|anterior|ant[ée]rieur\w*|previ[oa])\b",
    re.I,
)
#: Words a header line opens with ("Measure", "Region", "Component"...): the line names columns.
_HEADER_LABEL = re.compile(
    r"(?:measure\w*|region|site\w*|component|parameter|test|item|vertebra\w*|level|study|scan|exam\w*|date|"
    r"result\w*|analyte|description|name|variable|roi|location|value|index|skeletal\s+site|site\s*/\s*measure)\b[^:]{0,20}",
    re.I,
)

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DATE = re.compile(
    r"(?<![\d.])(?:"
    r"(?P<iy>(?:19|20)\d\d)[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})"  # 2024-05-21
    r"|(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>(?:19|20)?\d\d)"  # 05/21/2024, 21.05.2024, 5/21/24
    r"|(?P<dd>\d{1,2})[ \t-](?P<mn1>[a-z]{3})[a-z]{0,6}\.?[ \t,-]{1,3}(?P<y1>(?:19|20)\d\d)"  # 14 Feb 2024
    r"|\b(?P<mn2>[a-z]{3})[a-z]{0,6}\.?[ \t]{1,3}(?:(?P<dd2>\d{1,2}),?[ \t]{1,3})?(?P<y2>(?:19|20)\d\d)"  # Feb 14, 2024
    r"|(?P<mm>\d{1,2})[/.-](?P<y3>(?:19|20)\d\d)"  # 04/2025
    r"|(?P<y4>(?:19|20)\d\d)"  # 2024
    r")(?![\d])",
    re.I,
)


@dataclass(frozen=True, slots=True)
class StudyDate:
    """A date in a header or label: year, and month and day when given (day/month order may be unsure)."""

    year: int
    month: int | None = None
    day: int | None = None
    swappable: bool = False  # "05/06/2024": month and day could be either way round

    def key(self, day_first: bool = False) -> tuple[int, int, int]:
        m, d = self.month or 0, self.day or 0
        if day_first and self.swappable:
            m, d = d, m
        return (self.year, m, d)

    def same_day(self, other: StudyDate) -> bool:
        if self.year != other.year or self.month is None or other.month is None:
            return False
        mine = {(self.month, self.day)} | ({(self.day, self.month)} if self.swappable else set())
        theirs = {(other.month, other.day)} | ({(other.day, other.month)} if other.swappable else set())
        return bool(mine & theirs)


def parse_date(s: str) -> StudyDate | None:
    """The first date in ``s`` (a header cell, a row label), or None."""
    for m in _DATE.finditer(s):
        g = m.groupdict()
        if g["iy"]:
            month, day = int(g["im"]), int(g["id"])
            if 1 <= month <= 12 and 1 <= day <= 31:
                return StudyDate(int(g["iy"]), month, day)
        elif g["y"]:
            a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
            y = y + 2000 if y < 100 else y
            if a > 12 and b <= 12:
                return StudyDate(y, b, a)
            if a <= 12 and b <= 31:
                # dots are European day.month; slashes are read month/day, flagged when either fits
                if "." in m.group():
                    return StudyDate(y, b, a, swappable=a <= 12 and b <= 12)
                return StudyDate(y, a, b, swappable=b <= 12)
        elif g["y1"] and g["mn1"].lower() in _MONTHS:
            return StudyDate(int(g["y1"]), _MONTHS[g["mn1"].lower()], int(g["dd"]))
        elif g["y2"] and g["mn2"].lower() in _MONTHS:
            return StudyDate(int(g["y2"]), _MONTHS[g["mn2"].lower()], int(g["dd2"]) if g["dd2"] else None)
        elif g["y3"] and 1 <= int(g["mm"]) <= 12:
            return StudyDate(int(g["y3"]), int(g["mm"]))
        elif g["y4"]:
            return StudyDate(int(g["y4"]))
    return None


def word_role(s: str) -> str | None:
    """What a header or row label's words say: another measure, a reference, a change, current or prior."""
    if not s:
        return None
    if _OTHER_MEASURE.search(s):
        return OTHER
    if _REFERENCE.search(s):
        return REFERENCE
    if _CHANGE.search(s):
        return CHANGE
    if _CURRENT.search(s):
        return CURRENT
    if _PRIOR.search(s):
        return PRIOR
    return None


def time_role(s: str) -> str | None:
    """Like :func:`word_role` but only current/prior (a row label such as "Prior TBS" or "Current")."""
    if _CHANGE.search(s) and not _CURRENT.search(s) and not _PRIOR.search(s):
        return CHANGE
    if _CURRENT.search(s):
        return CURRENT
    if _PRIOR.search(s):
        return PRIOR
    return None


@dataclass
class Column:
    """A table column as its header lines describe it.

    Attributes:
        col: Horizontal position (or pipe index) of the header cell(s).
        text: The header words stacked above it, nearest line first.
        role: current / prior / change / reference / other measure, or None (a plain value column).
        date: The study date in its header, if any.
        why: The header words behind ``role``.
    """

    col: tuple[int, int]
    text: str
    role: str | None = None
    date: StudyDate | None = None
    why: str = ""


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return min(a[1], b[1]) - max(a[0], b[0])


def column_of(columns: list[Column], cell: Cell) -> Column | None:
    """The column a cell sits under: most overlap, else the nearest within three characters."""
    best, best_ov = None, 0
    for c in columns:
        ov = _overlap(c.col, cell.col)
        if ov > best_ov:
            best, best_ov = c, ov
    if best is not None or cell.piped:
        return best
    near = [(max(c.col[0] - cell.col[1], cell.col[0] - c.col[1]), c) for c in columns]
    near = [n for n in near if n[0] <= 3]
    return min(near, key=lambda n: n[0])[1] if near else None


def _is_number_cell(cell_text: str) -> bool:
    """A cell holding a measurement ("1.287", "-2.5", "0.812 g/cm2"), not a date ("2024-05-21", "(Feb 2022)")."""
    if not _NUMBER_START.match(cell_text):
        return False
    bare = cell_text.lstrip("([")
    d = _DATE.match(bare)
    if d and not _DIGIT.search(bare, d.end()):
        return False  # a date with words after it: "03/2021 (prior)", "10/2024 current"
    return not (d and len(d.group()) >= len(cell_text.strip("()[] ")) - 1)


_NUMBER_START = re.compile(r"[-+−]?\(?\d")
_DIGIT = re.compile(r"\d")
_KEY_VALUE = re.compile(r"[A-Za-z][\w .#/()-]{0,30}:[ \t]*\S")


def _header_line(cells: list[Cell], label_end: int) -> bool:
    """Whether a line above a row names columns rather than holding a row of values."""
    if not cells:
        return False
    body = [c for c in cells if c.col[0] >= label_end or c.piped and c.col[0] > 0]
    if any(_is_number_cell(c.text) or _KEY_VALUE.match(c.text) for c in body):
        return False  # a row of values, or "Key: value" fields ("Date: 03/04/2025") on a form line
    first = cells[0]
    if first.piped:
        label_blank = first.text == "" or _HEADER_LABEL.fullmatch(first.text) is not None
    else:
        label_blank = first.col[0] >= label_end or _HEADER_LABEL.fullmatch(first.text) is not None
    informative = any(parse_date(c.text) or time_role(c.text) for c in body)
    return bool(body) and (label_blank or informative)


def header_columns(text: str, row_start: int, row_cells: list[Cell]) -> list[Column]:
    """The columns named by the header lines above a table row (nearest header line first).

    Walks up through the row's block (no blank line, no prose line at the label column) and stacks
    the cells of every header line into columns by horizontal overlap (by index in pipe tables).
    """
    if not row_cells:
        return []
    label = row_cells[0]
    label_end = label.col[1] if not label.piped else 1
    columns: list[Column] = []
    pos = row_start
    for _ in range(_MAX_UP):
        if pos <= 0:
            break
        ls, le = line_bounds(text, pos - 1)
        pos = ls
        line = text[ls:le]
        if not line.strip():
            if is_padding(line):
                continue
            break
        if is_rule_line(text, ls, le):
            if columns:
                break  # a rule above the header lines closes the table
            continue
        cells = line_cells(text, ls, le)
        if not cells:
            break
        if len(cells) == 1 and not cells[0].piped and cells[0].col[0] < label_end:
            break  # a title or a sentence: the table starts below it
        if cells[0].piped != label.piped and not (len(cells) == 1 and cells[0].col[0] >= label_end):
            break
        if not _header_line(cells, label_end):
            if columns:
                break  # the header lines above a table are contiguous: what is above them is not the table's
            continue
        for cell in cells:
            if cell is cells[0] and (cell.piped and cell.col[0] == 0 or not cell.piped and cell.col[0] < label_end):
                continue  # the label column's own header ("Measure", "Region")
            hit = [c for c in columns if _overlap(c.col, cell.col) > 0]
            if hit:
                hit[0].text = f"{hit[0].text} {cell.text}".strip()
                if not cell.piped:
                    hit[0].col = (min(hit[0].col[0], cell.col[0]), max(hit[0].col[1], cell.col[1]))
            else:
                columns.append(Column(cell.col, cell.text))
    return columns


def resolve_columns(columns: list[Column], exam_dates: list[StudyDate]) -> None:
    """Give each column its role: from its words, else from its date against the exam date or the latest date."""
    for c in columns:
        c.date = parse_date(c.text)
        c.role = word_role(c.text)
        if c.role is not None:
            c.why = c.text
    resolve_dated(columns, exam_dates)


def resolve_dated(items: list, exam_dates: list[StudyDate]) -> None:
    """Current/prior for items (columns or row labels) with a date and no role of their own.

    The item dated on the exam day is current; with no exam date, the latest of two or more dates is.
    Earlier dates are prior. An item whose words already say current anchors the comparison.
    """
    dated = [c for c in items if c.role is None and c.date is not None]
    if not dated:
        return
    all_dates = [c.date for c in items if c.date is not None]
    day_first = any(d.swappable is False and d.month is not None and d.day is not None and d.day <= 12 < (d.month or 0)
                    for d in all_dates)
    anchors = [c.date for c in items if c.role == CURRENT and c.date is not None]
    current = None
    if anchors:
        current = anchors[0]
    else:
        for exam in exam_dates:
            same = [c for c in dated if c.date.same_day(exam)]
            if same:
                current = same[0].date
                break
        if current is None and exam_dates and len(dated) >= 1:
            exam = exam_dates[0]
            if all(c.date.key(day_first) < exam.key(day_first) and c.date.year < exam.year for c in dated):
                for c in dated:
                    c.role, c.why = PRIOR, c.text
                return
        if current is None and len(dated) >= 2:
            current = max((c.date for c in dated), key=lambda d: d.key(day_first))
    if current is None:
        return
    for c in dated:
        if c.date.key(day_first) == current.key(day_first) or c.date.same_day(current):
            c.role, c.why = CURRENT, c.text
        elif c.date.key(day_first) < current.key(day_first):
            c.role, c.why = PRIOR, c.text


_EXAM_DATE = re.compile(
    r"\b(?:(?:exam(?:ination)?|scan|study|service|procedure|acquisition|acquired|measured|performed|visit|collected)"
    r"(?:\s+(?:date|on))?|date\s+of\s+(?:exam\w*|study|service|scan|procedure)|dos|current\s+(?:exam|scan|study)\w*)"
    r"[ \t]*[:#.=-]?[ \t]*(?:date[ \t]*[:=]?[ \t]*)?"
    r"(\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}[ \t-][A-Za-z]{3,9}\.?[ \t,-]{1,3}\d{4}"
    r"|[A-Za-z]{3,9}\.?[ \t]{1,3}\d{1,2},?[ \t]{1,3}\d{4})",
    re.I,
)


_NOT_THIS_EXAM = re.compile(r"\b(?:prior|previous|comparison|last|baseline|earlier|outside)\W{1,3}$", re.I)


def exam_dates(text: str) -> list[StudyDate]:
    """The study dates a report states for its own exam ("Exam date: …", "Scan Date …", "DOS …")."""
    out: list[StudyDate] = []
    for m in _EXAM_DATE.finditer(text, 0, min(len(text), 20_000)):
        if _NOT_THIS_EXAM.search(text, max(0, m.start() - 14), m.start()):
            continue  # "prior study 2022-04-30", "comparison exam: …"
        d = parse_date(m.group(1))
        if d is not None and d not in out:
            out.append(d)
        if len(out) >= 3:
            break
    return out


# -- report parts ---------------------------------------------------------------------------------

_PART_HEADING = re.compile(
    r"(?im)^[ \t*#=>\-\[(]*(?:addend(?:um|a)\b|amend(?:ed|ment)\b|corrected\s+report\b|revised\s+report\b|"
    r"report\s+(?:amended|corrected|revised)\b|correction\b(?!\s+(?:of|for)\b)|late\s+entry\b|supplement(?:al|ary)?\s+report\b)"
    # "Addendum electronically signed by: …" closes the part it signs; it opens none.
    r"(?![ \t]{0,3}(?:was[ \t]+|is[ \t]+)?(?:electronically[ \t]+|digitally[ "
    r"\t]+|e-?)?(?:signed|attested|verified|authori[sz]ed)\b)"
)
#: The original report reproduced under a later part ("ADDENDUM …" first, then "ORIGINAL REPORT:"): it ends the part.
_ORIGINAL_HEADING = re.compile(
    r"(?im)^[ \t*#=>\-\[(]*(?:original|initial|superseded|first)\s+(?:report|version|read(?:ing)?|interpretation|"
    r"dictation)\b(?![ \t]+(?:was|is|has|had|dated|of|from|stated|gave|read)\b)"
)
#: A sentence that withdraws a value as invalid.
_RETRACTION = re.compile(
    r"\b(?:invalid|withdrawn|withdraw|retract\w*|rescind\w*|void(?:ed)?|erroneous|disregard\w*|unreliable|incorrect|"
    r"not\s+(?:be\s+)?(?:valid|reliable|used|reported|usable|reportable)|should\s+not\s+be\s+(?:used|relied|reported)|"
    r"do\s+not\s+use|cancel+ed|in\s+error|(?:is|are|be|been)\s+(?:deleted|removed|struck))\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Part:
    """A later part of a report (an addendum, an amendment, a correction), as offsets."""

    start: int
    end: int
    heading: str


def later_parts(text: str) -> list[Part]:
    """Addenda, amendments and corrections headed at a line start, each up to the next such heading.

    A part also ends where the original report is reproduced under it ("ORIGINAL REPORT:", see
    :func:`original_reports`): that text is the report the part amends, not the part.
    """
    heads = []
    for m in _PART_HEADING.finditer(text):
        if heads and not text[line_bounds(text, heads[-1].start())[1]:m.start()].strip():
            continue  # "ADDENDUM 02/05/2025:" then "Correction: …" on the next line: one part
        heads.append(m)
    if not heads:
        return []
    stops = sorted([m.start() for m in heads] + [m.start() for m in _ORIGINAL_HEADING.finditer(text)])
    out = []
    for m in heads:
        end = next((x for x in stops if x > m.start()), len(text))
        ls, le = line_bounds(text, m.start())
        out.append(Part(m.start(), end, text[ls:le].strip()[:80]))
    return out


def original_reports(text: str) -> list[tuple[int, int]]:
    """Where the original report is reproduced after a later part ("ORIGINAL REPORT:"), up to the next part."""
    heads = [m.start() for m in _PART_HEADING.finditer(text)]
    out = []
    for m in _ORIGINAL_HEADING.finditer(text):
        if any(h < m.start() for h in heads):
            out.append((m.start(), next((h for h in heads if h > m.start()), len(text))))
    return out


#: Words that introduce the value replacing a withdrawn one ("the correct TBS is", "should read").
_REPLACEMENT = re.compile(
    r"\b(?:correct(?:ed)?|should\s+(?:read|be)|revised|amended|updated|replaced|recalculated|new|now|actual|true|right)\b",
    re.I,
)


def retracts(sentence: str) -> str | None:
    """The words by which a sentence withdraws a value ("is invalid and is withdrawn"), or None."""
    m = _RETRACTION.search(sentence)
    return m.group(0) if m else None


def replaced_at(sentence: str, pos: int) -> bool:
    """Whether the number at ``pos`` of a withdrawing sentence is the replacement, not the withdrawn value.

    It is when words introducing a new value ("the correct TBS is") come before it, after the last
    withdrawing word before it: "1.321 above was incorrect; the correct TBS is 1.231".
    """
    cues = [m.start() for m in _REPLACEMENT.finditer(sentence, 0, pos)]
    gone = [m.start() for m in _RETRACTION.finditer(sentence, 0, pos)]
    return bool(cues) and (not gone or max(cues) > max(gone))


# -- HL7 ------------------------------------------------------------------------------------------

#: OBX-11 result statuses that mean there is no valid result.
_NO_RESULT_STATUS = frozenset({"X", "D", "W", "N"})


@dataclass(frozen=True, slots=True)
class ObxFields:
    """The fields of an OBX segment the value reader needs, as offsets."""

    value_type: str
    ident: tuple[int, int]
    value: tuple[int, int]
    status: str
    no_result: bool


def obx_fields(text: str, start: int, end: int) -> ObxFields | None:
    """An ``OBX|`` segment on ``text[start:end]`` split into fields, or None for another line."""
    if not text.startswith("OBX|", start):
        return None
    bounds = []
    pos = start
    while pos <= end and len(bounds) < 12:
        bar = text.find("|", pos, end)
        stop = end if bar == -1 else bar
        bounds.append((pos, stop))
        if bar == -1:
            break
        pos = bar + 1
    if len(bounds) < 6:
        return None
    status = text[bounds[11][0]:bounds[11][1]].strip().upper() if len(bounds) > 11 else ""
    return ObxFields(text[bounds[2][0]:bounds[2][1]].strip().upper(), bounds[3], bounds[5], status,
                     status in _NO_RESULT_STATUS)


# -- markup ---------------------------------------------------------------------------------------

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>\n]{0,200}>")
_HL7_ESCAPE = re.compile(r"\\(?:\.br|\.sp\d*|\.in[+-]?\d*|\.ti[+-]?\d*|\.ce|\.fi|\.nf|H|N|X0[Dd]0?[Aa]?|X0[Aa])\\")
_HL7_CHARS = {"\\T\\": "&", "\\S\\": "^", "\\F\\": "|", "\\R\\": "~", "\\E\\": "\\"}
_HL7_CHAR = re.compile(r"\\[TSFRE]\\")
_MARKUP_HINT = re.compile(r"[&<~^]|\\[.A-Z]")


def plain(s: str) -> str:
    """``s`` (a short stretch of a report) as the words its markup encodes.

    HTML entities are decoded (twice, for double-escaped text), tags and HL7 formatting escapes
    become spaces, HL7 character escapes their characters, and ``~`` / ``^`` separators spaces.
    For checking words and symbols only: offsets into the result mean nothing.
    """
    if not _MARKUP_HINT.search(s):
        return s
    if "&" in s:
        s = html.unescape(html.unescape(s))
    if "<" in s:
        s = _TAG.sub(" ", s)
    if "\\" in s:
        s = _HL7_ESCAPE.sub(" ", s)
        s = _HL7_CHAR.sub(lambda m: _HL7_CHARS[m.group()], s)
    return s.replace("~", " ").replace("^", " ").replace("\xa0", " ")
