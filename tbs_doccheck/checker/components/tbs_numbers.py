"""Numbers read as a TBS: :class:`TbsCandidate`, region and number parsing, layout regexes and :class:`GapReader`."""


import re
from dataclasses import dataclass

from tbs_doccheck.checker.components import structure
from tbs_doccheck.checker.patterns import TbsValueRules

_SENTENCE_END = re.compile(r"[.!?]\s+(?=[A-Z])")
_Values = tuple[list[re.Match[str]], list[int]]
_VALUE_LIST_CHARS = 240
_EMPTYISH = re.compile(r"^[\s:=|()\-–]*$")
# "TBS BY REGION", "Trabecular bone score results:" — a heading above a region list.
_HEADERISH = re.compile(r"^[^\d\n]{0,40}$")
# A table cell that is a range or a comparison ("1.310 - 1.600", "> 1.310"): a reference, not a value.
_RANGE_CELL = re.compile(r"[<>≤≥=]|\d[.,]\d+\s*(?:-|–|—|to)\s*\d")
# What may follow the TBS word in a column header ("TBS", "TBS (L1-L4)", "TBS index").
_HEADER_REST = re.compile(r"[\s(),:/\-]*(?:L[\s\dlI\-–]{1,8})?[\s()]*(?:index|value|result|score)?[\s()]*", re.I)
# What separates table cells on a line: a pipe, a tab, two spaces or a dotted leader.
_CELL_GAP = re.compile(r"[|\t]|  |\.\.\.")
# Where the clause holding a mention starts: after a sentence mark, a colon or a semicolon.
_CLAUSE_MARK = re.compile(r"[.;:!?](?=\s)|[.;:!?]$")
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1", "L": "1", ",": "."})
_VALUE_TYPES = frozenset({"NM", "SN", "ST", ""})
_DIGIT_WORDS = {"zero": 0, "oh": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9}
# A parenthesis or a bare year between two numbers of a change ("1.301 (2022) → 1.262").
_TAIL_ASIDE = re.compile(r"\([^()\n]{0,25}\)|\b(?:19|20)\d\d\b|,")
# A FHIR/JSON string key whose value names the observation ("display": "Trabecular bone score").
_JSON_NAME_KEY = re.compile(r'"(?:display|text|name)"[ \t]*:[ \t]*"[^"\n]{0,80}$')
_JSON_VALUE = re.compile(
    r'"value(?:Quantity"[ \t\n]*:[ \t\n]*\{[^{}]{0,200}?"value"|Decimal"|Integer"|String")[ \t\n]*:[ \t\n]*"?'
    r'(\d{1,2}[.,]\d{1,4})')
_JSON_OTHER_CODE = re.compile(r'"code"[ \t\n]*:')
_JSON_EFFECTIVE = re.compile(r'"(?:effectiveDateTime|effectiveInstant|start)"[ \t\n]*:[ \t\n]*"((?:19|20)\d\d)')
_JSON_EFFECTIVE_YEARS = re.compile(r'"(?:effectiveDateTime|effectiveInstant|start|issued|date)"[ \t\n]*:[ '
                                   r'\t\n]*"((?:19|20)\d\d)')
_JSON_VOID_STATUS = re.compile(r'"status"[ \t\n]*:[ \t\n]*"(?:cancelled|entered-in-error)"')
# A column header that holds the TBS itself in a table headed by TBS ("TBS   value   T-score").
_VALUE_HEADER = re.compile(r"(?:value|result|measured|score|index|tbs)\b", re.I)


@dataclass(frozen=True, slots=True)
class TbsCandidate:
    """A number read as a TBS value, with where it came from.

    Attributes:
        value: The number as a float (a decimal comma read as a point, OCR ``O``/``l`` as ``0``/``1``).
        value_start: Offset of the number in the report text.
        value_end: End offset of the number.
        region: Normalised vertebral region ("L1-L4") or None.
        layout: How it was read: ``inline``, ``next_line``, ``region_list``, ``column_table``
            (a TBS column), ``table_row`` (a TBS row of a table) or ``obx`` (an HL7 OBX segment).
        reference: Why the number looks like a threshold rather than a measurement, or None.
        excluded: Why the layout itself says the number is not this study's TBS (a prior column, an
            estimate, a value corrected in the dictation, an OBX result that cannot be obtained), or None.
        review: An ambiguity a person should look at (a table whose current column can't be told), or None.
        current_from: Offset of the words that switch to the current value ("…, now 1.255"): history
            words before it describe an earlier number, not this one. None when there are none.
        series: Whether the number is an entry of a dated series ("2021 – 1.311; 2025 – 1.262"), judged
            by its own date (from ``current_from``) only.
    """

    value: float
    value_start: int
    value_end: int
    region: str | None
    layout: str
    reference: str | None = None
    excluded: str | None = None
    review: str | None = None
    current_from: int | None = None
    series: bool = False


def normalise_region(raw: str) -> str:
    """``(L1 - L4)`` → ``L1-L4``; ``L1,L3-L4`` stays itself; OCR ``Ll-L4`` → ``L1-L4``."""
    s = re.sub(r"[()\s]", "", raw.upper())
    s = re.sub(r"(?:TO|THROUGH|–|—)", "-", s)
    s = re.sub(r"L[LI](?=-)", "L1", s)
    s = re.sub(r"(?<=[-,])(?=\d)", "L", s)
    return s


def _to_float(raw: str) -> float:
    """A number as written (decimal comma, OCR letters for digits inside it, or dictated words) as a float."""
    if raw[:1].isdigit() or raw[1:2] in (".", ","):
        return float(raw.translate(_OCR_DIGITS))
    words = raw.lower().split()
    whole, digits = words[0], [w for w in words[2:]]
    return float(f"{_DIGIT_WORDS[whole]}." + "".join(str(_DIGIT_WORDS[w]) for w in digits))


def _quote(s: str, limit: int = 40) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


class GapReader:
    """Reads what stands between a TBS mention and a number; :class:`TbsValueFinder` compiles the patterns.

    Attributes:
        rules: The ``tbs_value`` rules, once added.
        region: A vertebral region ("L1-L4").
        gap_stop: Words in the gap that cut the mention off from the number.
        gap_reference: Words in the gap that make the number a threshold or reference.
        hypothetical: Estimate words in the gap ("around", "would be expected").
        hypothetical_after: Estimate words right after the number.
        hypothetical_before: Estimate words in the clause leading to the mention.
    """

    rules: TbsValueRules | None
    region: re.Pattern[str]
    gap_stop: re.Pattern[str]
    gap_reference: re.Pattern[str]
    hypothetical: re.Pattern[str]
    hypothetical_after: re.Pattern[str]
    hypothetical_before: re.Pattern[str]

    def _gap_ok(self, gap: str) -> tuple[bool, str | None]:
        """Whether text between a TBS mention and a number still ties the two together."""
        if len(gap) > self.rules.max_gap_chars:
            return False, None
        gap = structure.plain(gap)
        if _SENTENCE_END.search(gap):
            return False, None
        bare = self.region.sub(" ", gap)
        if self.gap_stop.search(bare):
            ref = self.gap_reference.search(bare)
            return False, ref.group(0) if ref else None
        ref = self.gap_reference.search(bare)
        return True, ref.group(0) if ref else None

    def _hedged(self, text: str, gap: str, value_end: int) -> str | None:
        """The words that make a number an estimate ("a TBS around 1.2 would be expected"), or None."""
        m = self.hypothetical.search(structure.plain(gap))
        if m:
            return m.group(0)
        m = self.hypothetical_after.match(text, value_end, min(len(text), value_end + 90))
        return m.group(0).strip().split()[-1] if m else None

    def _hedged_before(self, text: str, line_start: int, ms: int) -> str | None:
        """Estimate words in the clause leading to the mention ("one would expect a TBS of …"), or None."""
        lo = max(line_start, ms - 80)
        clause = lo
        for m in _CLAUSE_MARK.finditer(text, lo, ms):
            clause = m.end()
        m = self.hypothetical_before.search(text, clause, ms)
        return m.group(0) if m else None
