"""What the flags read from a report's text: sentences, dates and their labels, the patient's age, BMI, FRAX numbers.

Every finder is conservative: when the text allows two readings, it says so (or finds nothing) rather than guess.
All regexes are linear (bounded gaps, no nested repetition): they run on every report the checker sees.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

# ----------------------------------------------------------------------------------------------- sentences and lines

_SENTENCE_END = re.compile(r"(?<=[.!?])[ \t]+|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence: lines, cut again after ``. `` (a decimal point has no space after it)."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@lru_cache(maxsize=4)
def _newlines(text: str) -> list[int]:
    """Where the newlines of ``text`` are (kept for the few texts in hand: a long line is not scanned again)."""
    return [m.start() for m in _NEWLINE.finditer(text)]


_NEWLINE = re.compile("\n")


def line_span(text: str, pos: int) -> tuple[int, int]:
    """``(start, end)`` of the line holding ``pos``."""
    newlines = _newlines(text)
    i = bisect_left(newlines, pos)
    start = newlines[i - 1] + 1 if i > 0 else 0
    return start, newlines[i] if i < len(newlines) else len(text)


# ----------------------------------------------------------------------------------------------- dates

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?"
# Two scans, each anchored on what its dates start with (a digit; a month name), are several times faster than one.
_NUMERIC_DATE = re.compile(
    r"(?=\d)(?<![\d/.\-])(?:"
    r"(?P<iy>(?:19|20)\d\d)-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>(?:19|20)\d\d|\d\d)"
    rf"|(?P<td>\d{{1,2}})(?:st|nd|rd|th)?[ ](?P<tm>{_MON}),?[ ](?P<ty>(?:19|20)\d\d)"
    r")(?![\d/\-]|\.\d)",
    re.IGNORECASE,
)
_MONTH_FIRST_DATE = re.compile(
    rf"\b(?=[adfjmnos])(?P<tm>{_MON})[ ](?P<td>\d{{1,2}})(?:st|nd|rd|th)?,?[ ](?P<ty>(?:19|20)\d\d)(?![\d/\-]|\.\d)",
    re.IGNORECASE,
)

#: How a report writes numeric dates: month first (US) or day first. Unambiguous dates read the same under both.
CONVENTIONS = ("mdy", "dmy")


@dataclass(frozen=True)
class DateMention:
    """A date in the text and what it means under each numeric convention it is valid under."""

    start: int
    end: int
    text: str
    readings: dict[str, date] = field(hash=False)
    two_digit_year: bool = False


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _readings(m: re.Match[str]) -> tuple[dict[str, date], bool]:
    g = m.groupdict()
    if g.get("iy"):
        d = _safe_date(int(g["iy"]), int(g["im"]), int(g["id"]))
        return ({c: d for c in CONVENTIONS} if d else {}), False
    if g.get("a"):
        y = int(g["y"])
        short = y < 100
        if short:
            y += 2000 if y < 70 else 1900
        a, b = int(g["a"]), int(g["b"])
        out = {}
        if (us := _safe_date(y, a, b)) is not None:
            out["mdy"] = us
        if (eu := _safe_date(y, b, a)) is not None:
            out["dmy"] = eu
        return out, short
    d = _safe_date(int(g["ty"]), _MONTHS[g["tm"][:3].lower()], int(g["td"]))
    return ({c: d for c in CONVENTIONS} if d else {}), False


def dates(text: str) -> list[DateMention]:
    """Every full date (day, month and year) in the text, in order."""
    found = []
    for pattern in (_NUMERIC_DATE, _MONTH_FIRST_DATE):
        for m in pattern.finditer(text):
            readings, short = _readings(m)
            if readings:
                found.append(DateMention(m.start(), m.end(), m.group(), readings, short))
    found.sort(key=lambda d: d.start)
    return found


def possible_conventions(mentions: list[DateMention]) -> list[str]:
    """The conventions under which every one of ``mentions`` is a valid date."""
    return [c for c in CONVENTIONS if all(c in d.readings for d in mentions)]


_EXAM_LABEL = re.compile(
    r"(?:exam(?:ination)?\s{1,4}date|date\s{1,4}of\s{1,4}(?:exam(?:ination)?|service|study|scan|procedure|acquisition)"
    r"|\bDOS|(?:study|scan|visit/scan)\s{1,4}date|\bexam(?:ination)?|\bacquired(?:\s{1,4}on)?|\bacquisition(?:\s{1,4}date)?"
    r"|\bperformed(?:\s{1,4}on)?|\bscanned(?:\s{1,4}on)?)[\s:.=\-\u2013]{0,24}$",
    re.IGNORECASE,
)
_REPORT_LABEL = re.compile(
    r"(?:report\s{1,4}date|date\s{1,4}of\s{1,4}(?:report|interpretation|reading)|date\s{1,4}signed|signed\s{1,4}date(?:/time)?"
    r"|date/time\s{1,4}signed|\bread(?:\s{1,4}date|\s{1,4}on)?|\bdictated(?:\s{1,4}on)?|\binterpreted(?:\s{1,4}on)?|\breported(?:\s{1,4}on)?"
    r"|\bsigned(?:\s{1,4}on)?)[\s:.=\-\u2013]{0,24}$",
    re.IGNORECASE,
)
_BIRTH_LABEL = re.compile(
    r"(?:\bDOB|\bD\.O\.B\.?|date\s{1,4}of\s{1,4}birth|birth\s{0,4}date|\bborn)\b[^\d\n]{0,20}$", re.IGNORECASE
)
_BARE_DATE_LABEL = re.compile(r"\bdate[\s:.=\-]{0,24}$", re.IGNORECASE)
# "EXAM: DXA LUMBAR SPINE/HIP WITH TBS     DATE: 08/26/2025": a bare date on the line that names the exam.
_EXAM_LINE = re.compile(r"\b(?:exam(?:ination)?|procedure|study)[ ]?:", re.IGNORECASE)
#: Words that make a labelled exam date another exam's: an earlier one, or one still to come.
_OTHER_EXAM = re.compile(
    r"\b(?:prior|previous|comparison|compared|baseline|last|earlier|next|follow[- ]?up|repeat|future|due|scheduled"
    r"|recommended|planned)\b",
    re.IGNORECASE,
)
_LABEL_REACH = 48


def _prefix(text: str, mention: DateMention) -> str:
    line_start, _ = line_span(text, mention.start)
    return text[max(line_start, mention.start - _LABEL_REACH) : mention.start]


@dataclass
class ReportDates:
    """The dates that matter to the flags, by role."""

    exam: list[DateMention]
    signed: list[tuple[DateMention, str]]
    birth: list[DateMention]
    bare: list[DateMention]


def report_dates(text: str, signature_starts: list[int], mentions: list[DateMention] | None = None) -> ReportDates:
    """Labelled exam, birth and report dates, and the dates on the signing lines.

    Args:
        text: The report.
        signature_starts: Where each signing statement the checker found starts: a date after it on its line,
            or on the line below, is a signature date.
        mentions: ``dates(text)``, when already found.
    """
    exam, signed, birth, bare = [], [], [], []
    sign_zones = []
    for start in signature_starts:
        _, line_end = line_span(text, start)
        zone_end = line_end
        if line_end < len(text):
            _, next_end = line_span(text, line_end + 1)
            zone_end = next_end
        sign_zones.append((start, zone_end))
    for d in dates(text) if mentions is None else mentions:
        prefix = _prefix(text, d)
        if _BIRTH_LABEL.search(prefix):
            if not d.two_digit_year:
                birth.append(d)
            continue
        if _EXAM_LABEL.search(prefix):
            if not _OTHER_EXAM.search(prefix):
                exam.append(d)
        elif any(a <= d.start < b for a, b in sign_zones):
            signed.append((d, "signature"))
        elif _REPORT_LABEL.search(prefix):
            signed.append((d, "report date"))
        elif _BARE_DATE_LABEL.search(prefix):
            line_start, _ = line_span(text, d.start)
            line_start = max(line_start, d.start - 200)  # a label sits near its date; keeps one-line reports linear
            (exam if _EXAM_LINE.search(text, line_start, d.start) else bare).append(d)
    return ReportDates(exam, signed, birth, bare)


# ----------------------------------------------------------------------------------------------- age

_AGE = re.compile(
    r"(?=[\dAa])(?:\b(?P<n1>\d{1,3})[\s-]{0,2}(?i:years?|yrs?|y)[\s-]{0,2}(?i:old)\b"
    r"|\b(?P<n2>\d{1,3})[ ]?(?i:yo|y/o|y\.o\.?)(?![a-zA-Z])"
    r"|\b(?i:age|aged)[ ]?[:=]?[ ]?(?P<n3>\d{1,3})\b(?![ ]?[-\u2013][ ]?\d)(?![ ]?(?i:years?[ ])?(?i:and|or|to)\b)"
    r"|\b(?P<n4>\d{2})(?P<sex>[FM])\b"
    r"|\b(?P<n5>\d{2,3})[ ]?(?i:y)\b(?![/.]))",
)
_NOT_THE_PATIENT = re.compile(
    r"\b(?:mother|father|parent|parental|maternal|paternal|sister|brother|sibling|family|husband|wife|son|daughter"
    r"|since|from|until|till|before|after|at|onset|diagnosed|menopause|menarche|under|over|above|below|younger|older"
    r"|than|between|in|every|for|within|repeat|validated|ages|fractures?|fx|surgery|injury|hysterectomy"
    r"|oophorectomy)\b[\W_]{0,4}(?:\w{1,20}[\W_]{1,4}){0,2}$"
    r"|[<>\u2264\u2265][ ]?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Age:
    """The patient's age in completed years: the lowest and highest the text allows, and where it comes from."""

    low: int
    high: int
    evidence: tuple[tuple[int, int], ...]

    def describe(self) -> str:
        """``36``, or ``39-40`` when the dates allow both."""
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def stated_ages(text: str) -> list[tuple[int, int, int]]:
    """``(age, start, end)`` of each age stated for the patient (not a relative's, not an onset, not a range)."""
    found = []
    for m in _AGE.finditer(text):
        group = next(g for g in ("n1", "n2", "n3", "n4", "n5") if m[g])
        line_start, _ = line_span(text, m.start())
        before = text[max(line_start, m.start() - 40) : m.start()]
        if _NOT_THE_PATIENT.search(before):
            continue
        value = int(m[group])
        if 1 <= value <= 120:
            found.append((value, m.start(), m.end()))
    return found


def _completed_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def patient_age(text: str, found: ReportDates) -> Age | None:
    """The patient's age from stated ages and from the birth date at the exam (else report) date; None if unclear."""
    stated = stated_ages(text)
    values = {v for v, _, _ in stated}
    if values and max(values) - min(values) > 1:
        return None
    evidence = [(s, e) for _, s, e in stated]
    from_dates: set[int] = set()
    births = {tuple(sorted(d.readings.items())) for d in found.birth}
    reference = found.exam or [d for d, _ in found.signed] or found.bare
    if len(births) == 1 and reference:
        birth = found.birth[0]
        for convention in possible_conventions([birth, *reference]):
            for ref in reference:
                from_dates.add(_completed_years(birth.readings[convention], ref.readings[convention]))
        if from_dates:
            evidence.append((birth.start, birth.end))
    ages = values | from_dates
    if not ages or max(ages) - min(ages) > 1:
        return None
    return Age(min(ages), max(ages), tuple(sorted(evidence)))


# ----------------------------------------------------------------------------------------------- BMI

_BMI = re.compile(
    r"\bBMI\b(?:[ ]?\(kg/m2\))?[\s:=.\u2026]{0,20}(?:(?:of|is|was|now|today|calculated|measured)[ ]){0,2}"
    r"(?P<v>\d{2}(?:\.\d{1,2})?)(?![\d.]?\d)(?![ ]?(?:[-\u2013]|to)[ ]?\d)(?![ ]?%)",
    re.IGNORECASE,
)


def bmis(text: str) -> list[tuple[float, int, int]]:
    """``(bmi, start, end)`` of each BMI value stated (ranges such as ``BMI 15-37`` are not values)."""
    return [(float(m["v"]), m.start(), m.end()) for m in _BMI.finditer(text)]


# ----------------------------------------------------------------------------------------------- FRAX

_PCT = r"(?P<num>\d{1,2}(?:\.\d{1,2})?)[ ]?%"
_LABEL = r"(?=[MmHh])(?P<label>\bMOF\b|\bmajor[ ]osteoporotic(?:[ ]fractures?)?|\bhip(?:[ ]fractures?)?)"
_GAP = r"(?P<gap>[^\d%\n]{0,30}?)"
_FRAX_AFTER_LABEL = re.compile(_LABEL + _GAP + _PCT, re.IGNORECASE)
_FRAX_BEFORE_LABEL = re.compile(
    r"(?=\d)" + _PCT + r"[ ]?(?:for|of)[ ](?:a[ ]|the[ ])?(?P<label>major[ ]osteoporotic|MOF\b|hip\b)", re.IGNORECASE
)
_FRAX_ARROW = re.compile(
    _LABEL + _GAP + _PCT + r"[ ]?(?:->|\u2192|=>|to)[ ]?(?P<num2>\d{1,2}(?:\.\d{1,2})?)[ ]?%", re.IGNORECASE
)
_FRAX_PAREN_ADJUSTED = re.compile(
    r"\([ ]?(?:TBS[- ]adj(?:usted|\.)?|adjusted(?:[ ]for[ ]TBS)?)[ ]?:?[ ]?" + _PCT + r"[ ]?\)", re.IGNORECASE
)
_BAD_GAP = re.compile(
    r"[<>=+\u2264\u2265]|\b(?:threshold|above|below|exceed\w{0,4}|over|under|least|cut|BMD|change|score|T|Z|and|or)\b",
    re.IGNORECASE,
)
_NOT_A_PROBABILITY_BEFORE = re.compile(
    r"(?:threshold|cut[- ]?off|cut[- ]?point|intervention|guideline|target|treat\w{0,6}[ ]if)"
    r"\W{0,3}(?:\w{1,20}\W{1,3}){0,2}$",
    re.IGNORECASE,
)
_FRAX_CONTEXT = re.compile(r"FRAX|probabilit|10[- ]?y|ten[- ]year|fracture[ ]risk|adjust", re.IGNORECASE)
_PRIOR_FRAX = re.compile(
    r"\b(?:prior|previous|earlier|last|old)[ ](?:FRAX|probabilit\w{0,4}|risk|calculation|assessment|estimate)"
    r"|\bFRAX\b[^\n]{0,15}\b(?:19|20)\d\d\b|\bin[ ](?:19|20)\d\d\b",
    re.IGNORECASE,
)
_UNADJUSTED_SPECIAL = re.compile(
    r"\bunadjusted\b|\b(?:without|w/o|no)[ ]TBS\b|\bbefore[ ](?:the[ ])?TBS[ ]adjustment\b|\bnot[ ]adjusted\b"
    r"|\bno[ ]TBS[ ]adjustment\b",
    re.IGNORECASE,
)
_ADJUSTED = re.compile(
    r"\bTBS[- ]adj(?:usted|ustment|\.)?(?:[ ]FRAX)?|\bFRAX[ ](?:adjusted[ ](?:for|with|by)[ ]TBS|with[ ]TBS)"
    r"|\badj(?:usted|\.)?[ ](?:for|with|by|to)[ ](?:the[ ])?(?:current[ ])?TBS\b|\bwith[ ]TBS(?:[ ]adjustment)?\b"
    r"|\bafter[ ](?:the[ ])?TBS(?:[ ]adjustment)?\b|\bTBS[ ]adjustment\b",
    re.IGNORECASE,
)
_OTHER_ADJUSTMENT = re.compile(r"\badj(?:usted|ustment|\.)?\b", re.IGNORECASE)
_FRAX_WORD = re.compile(r"\bFRAX\b", re.IGNORECASE)
_PAREN_WITH_PCT = re.compile(r"\([^()\n]{0,60}%[^()\n]{0,20}\)")
_ANY_PCT = re.compile(r"\d[ ]?%")
_INHERIT = "inherit"
_SEPARATOR = re.compile(r"[;,.](?:[ ]|$)|[;]")


@dataclass(frozen=True)
class FraxNumber:
    """A FRAX 10-year probability in the text."""

    outcome: str  # "MOF" or "hip"
    value: float
    start: int
    end: int
    adjusted: bool | None  # None: the text does not say


def _outcome(label: str) -> str:
    return "hip" if label.lower().startswith("hip") else "MOF"


def _markers(segment: str) -> bool | None | str:
    """What the words in ``segment`` say about the probability after them: adjusted, not, unclear, or nothing."""
    segment = _PAREN_WITH_PCT.sub(lambda m: " " * len(m.group()), segment)  # "(TBS-adjusted 5.9%)" speaks for itself
    if _ANY_PCT.search(segment):
        return None  # the words may belong to that other number ("9.1% -> 10.0% after TBS adjustment; hip 1.4%")

    def outside(found: list[tuple[int, int]], m: re.Match[str]) -> bool:
        return not any(s < m.end() and m.start() < e for s, e in found)

    special = [(m.start(), m.end()) for m in _UNADJUSTED_SPECIAL.finditer(segment)]
    adjusted = [(m.start(), m.end()) for m in _ADJUSTED.finditer(segment) if outside(special, m)]
    known = special + adjusted
    if any(outside(known, m) for m in _OTHER_ADJUSTMENT.finditer(segment)):
        return None  # adjusted for something else (a glucocorticoid dose...)
    if special and adjusted:
        return None
    if special:
        return False
    if adjusted:
        return True
    if any(outside(known, m) for m in _FRAX_WORD.finditer(segment)):
        return False
    return _INHERIT


def frax_numbers(text: str) -> list[FraxNumber]:
    """The FRAX probabilities of this exam (thresholds, BMD changes and earlier results left out), in order.

    Whether each is the TBS-adjusted one is read from the words between it and the number before it on its line
    ("FRAX MOF 14.0%, hip 2.7%; TBS-adjusted MOF 17.6%, hip 3.7%"); without such words it is the same as the number
    before it, and unclear at the start of a line.
    """
    if "%" not in text:
        return []
    taken: set[int] = set()  # where the numbers already read start
    found: list[FraxNumber] = []
    context: dict[int, bool] = {}

    def current(pos: int) -> bool:
        line_start, line_end = line_span(text, pos)
        before = text[max(line_start, pos - 60) : pos]
        if _PRIOR_FRAX.search(before) or _NOT_A_PROBABILITY_BEFORE.search(before[-40:]):
            return False
        if line_start not in context:
            context[line_start] = _FRAX_CONTEXT.search(text, line_start, line_end) is not None
        return context[line_start]

    for m in _FRAX_ARROW.finditer(text):  # "MOF 9.1% -> 10.0% after TBS adjustment"
        if _BAD_GAP.search(m["gap"]) or not current(m.start()):
            continue
        taken.update((m.start("num"), m.start("num2")))
        line_start, line_end = line_span(text, m.start())
        line = text[line_start:line_end]
        said = _ADJUSTED.search(line) is not None and _UNADJUSTED_SPECIAL.search(line) is None
        outcome = _outcome(m["label"])
        found.append(FraxNumber(outcome, float(m["num"]), m.start(), m.end("num") + 1, False if said else None))
        found.append(FraxNumber(outcome, float(m["num2"]), m.start("num2"), m.end(), True if said else None))
    parens = [m for m in _FRAX_PAREN_ADJUSTED.finditer(text) if m.start("num") not in taken]
    taken.update(m.start("num") for m in parens)
    labelled: list[tuple[int, str, float, int, int]] = []  # (number start, outcome, value, start, end)
    for m in _FRAX_BEFORE_LABEL.finditer(text):
        if m.start("num") not in taken and current(m.start()):
            taken.add(m.start("num"))
            labelled.append((m.start(), _outcome(m["label"]), float(m["num"]), m.start(), m.end()))
    for m in _FRAX_AFTER_LABEL.finditer(text):
        if _BAD_GAP.search(m["gap"]) or m.start("num") in taken or not current(m.start()):
            continue
        taken.add(m.start("num"))
        labelled.append((m.start("num"), _outcome(m["label"]), float(m["num"]), m.start(), m.end()))
    labelled.sort()
    previous_end, previous_line, previous_kind = 0, -1, None
    for number_at, outcome, value, start, end in labelled:
        line_start, _ = line_span(text, start)
        if line_start != previous_line:
            previous_end, previous_kind = line_start, None
        segment = text[previous_end:number_at]
        if previous_end > line_start:
            # Words before the first separator still speak of the number before ("hip 0.5% unadjusted; ...").
            cut = _SEPARATOR.search(segment)
            segment = segment[cut.end() :] if cut else segment
        kind = _markers(segment)
        adjusted = previous_kind if kind == _INHERIT else kind
        found.append(FraxNumber(outcome, value, start, end, adjusted))  # type: ignore[arg-type]
        previous_end, previous_line, previous_kind = end, line_start, adjusted
    found.sort(key=lambda f: f.start)
    plain = [f for f in found if f.adjusted is not True]
    plain_starts = [f.start for f in plain]
    for m in parens:  # "MOF 6.4% (TBS-adjusted 5.9%)": the adjusted value of the number just before it
        line_start, _ = line_span(text, m.start())
        i = bisect_left(plain_starts, m.start()) - 1
        if i >= 0 and line_start <= plain[i].start and plain[i].end <= m.start() and current(m.start()):
            found.append(FraxNumber(plain[i].outcome, float(m["num"]), m.start(), m.end(), True))
    found.sort(key=lambda f: f.start)
    return found
