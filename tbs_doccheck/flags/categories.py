"""The microarchitecture category a report states for its TBS, and the cut-points it lists itself.

A category word counts as a statement about the current TBS only when it is tied to TBS or microarchitecture
("degraded microarchitecture", "TBS: normal", "1.254 -> partially degraded") and sits either beside the current
value or in a sentence with no other TBS-like number and nothing generic about it. Words inside a list of
cut-points ("normal >= 1.310; partially degraded 1.230-1.310") are cut-points, not statements.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from tbs_doccheck.flags.text import line_span, sentence_spans

Category = str  # "normal" | "partial" | "degraded"

_CATEGORY = re.compile(
    r"(?=[PpMmNnDd])\b(?:(?P<partial>(?:partially|partly|moderately|mildly)[\s-]{1,2}degraded)|(?P<degraded>degraded)"
    r"|(?P<normal>normal))\b",
    re.IGNORECASE,
)
_HEDGED_BEFORE = re.compile(
    r"\b(?:near|nearly|borderline|border|almost|not|non|no|low|high|upper|lower|sub|ab)[\s-]{0,2}$|/[ ]?$",
    re.IGNORECASE,
)
_HEDGED_AFTER = re.compile(
    r"^[ ]?/|^[\s-]{0,2}(?:cut[\s-]?(?:off|point)|threshold|border|limit|boundary)", re.IGNORECASE
)
_COMPARATOR = r"(?:[<>]=?|[\u2264\u2265=]|at[ ]or[ ](?:above|below)|above|below)"
_NUM = r"\d\.\d{2,3}"
_RANGE_TAIL = rf"[ \t]{{0,4}}(?:[-\u2013]|to)[ \t]{{0,4}}(?:[<>]=?)?[ \t]{{0,4}}(?P<n2>{_NUM})"
_THRESHOLD_AFTER = re.compile(
    rf"[ \t]{{0,4}}:?[ \t]{{0,4}}(?:{_COMPARATOR}[ \t]{{0,4}}(?P<n1>{_NUM})|(?P<r1>{_NUM}){_RANGE_TAIL})"
)
_THRESHOLD_BEFORE = re.compile(
    rf"(?:{_COMPARATOR}[ \t]{{0,4}}(?P<n1>{_NUM})|(?P<r1>{_NUM}){_RANGE_TAIL})[ \t]{{0,4}}:?[ \t]{{0,4}}$",
    re.IGNORECASE,
)
_ANCHOR_AFTER = re.compile(
    r"^[\s-]{1,3}(?:trabecular[\s-]{1,3})?(?:bone[\s-]{1,3})?(?:micro-?architecture|microstructure|architecture|TBS\b"
    r"|trabecular[\s-]{1,3}bone[\s-]{1,3}score|texture)",
    re.IGNORECASE,
)
_ANCHOR_BEFORE = re.compile(
    r"(?:\bTBS|micro-?architecture|trabecular[\s-]{1,3}bone[\s-]{1,3}score)(?:[\s-]{1,3}category)?"
    r"(?:[ ]{1,3}(?:is|was|appears|remains|looks))?[\s:=\-\u2013>.]{0,14}$",
    re.IGNORECASE,
)
_VALUE_BEFORE = re.compile(
    rf"{_NUM}[\s,;:()\[\]\-\u2013>=.]{{0,8}}"
    r"(?:(?:is|this|which|indicates?|indicating|consistent|with|corresponds?|to|in|within|the|a|of|category|at|lower"
    r"|upper|margin|microarchitecture)\b[\s,;:()\-\u2013>=.]{0,4}){0,6}$",
    re.IGNORECASE,
)
_NOT_TBS_AFTER = re.compile(
    r"^[\s-]{1,2}(?:spine|hip|femoral|bone[\s-]{1,3}(?:mineral[\s-]{1,3})?density|BMD|T-?scores?|Z-?scores?|renal|thyroid"
    r"|calcium|limits?|for[ ]age|study|exam|DXA|BMI)\b",
    re.IGNORECASE,
)
_TBS_LIKE = re.compile(rf"(?<![\d.])({_NUM})(?![\d.])")
_NOT_A_VALUE_BEFORE = re.compile(
    rf"(?:{_COMPARATOR}|\u00b1|cut[\s-]?(?:off|point)s?|thresholds?|ref(?:erence)?|{_NUM}[ \t]{{0,4}}(?:[-\u2013]|to))"
    r"[ \t:]{0,6}$",
    re.IGNORECASE,
)
_NOT_A_VALUE_AFTER = re.compile(
    rf"[ \t]{{0,4}}(?:g/cm|%|mg|(?:[-\u2013]|to)[ \t]{{0,4}}[<>]?=?[ \t]{{0,4}}{_NUM})", re.IGNORECASE
)
_GENERIC = re.compile(
    r"\b(?:an?|any)[ ]{1,3}(?:partially[ ]|partly[ ])?(?:degraded|normal)\b"
    r"|\b(?:values?|categor(?:y|ies)|defined|considered"
    r"|reference|cut[\s-]?(?:off|point)s?|thresholds?|ranges?|means?|indicates?[ ]{1,3}(?:increased|higher|lower))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    """A category the report states, where."""

    category: Category
    start: int
    end: int


@dataclass(frozen=True)
class Scheme:
    """Cut-points: degraded at or below ``low``, normal above ``high`` (a value on either fits both neighbours)."""

    low: float
    high: float
    label: str

    def fits(self, value: float, category: Category, tolerance: float) -> bool:
        """Whether ``value`` may be called ``category`` under these cut-points."""
        if category == "normal":
            return value >= self.high - tolerance
        if category == "degraded":
            return value <= self.low + tolerance
        return self.low - tolerance <= value <= self.high + tolerance

    def category_of(self, value: float) -> str:
        """The category's name for ``value`` (a value on a cut-point named by both)."""
        names = {"normal": "normal", "partial": "partially degraded", "degraded": "degraded"}
        fitting = [names[c] for c in ("degraded", "partial", "normal") if self.fits(value, c, 0.0)]
        return " or ".join(fitting)


def _kind(m: re.Match[str]) -> Category:
    return "partial" if m["partial"] else "degraded" if m["degraded"] else "normal"


def _threshold_numbers(text: str, m: re.Match[str]) -> list[float] | None:
    """The cut-point numbers written against this category word, or None when it is not a cut-point."""
    line_start, line_end = line_span(text, m.start())
    after = _THRESHOLD_AFTER.match(text, m.end(), min(line_end, m.end() + 40))
    before = _THRESHOLD_BEFORE.search(text[max(line_start, m.start() - 40) : m.start()])
    hit = after or before
    if hit is None:
        return None
    return [float(hit[g]) for g in ("n1", "r1", "n2") if hit[g]]


def own_scheme(text: str) -> Scheme | None:
    """The cut-points a report lists itself: a line naming at least two categories against numbers.

    None when the report lists none, or lists different ones in different places.
    """
    by_line: dict[int, tuple[set[str], set[float]]] = {}
    for m in _CATEGORY.finditer(text):
        numbers = _threshold_numbers(text, m)
        if numbers is None:
            continue
        kinds, values = by_line.setdefault(line_span(text, m.start())[0], (set(), set()))
        kinds.add(_kind(m))
        values.update(v for v in numbers if 1.0 <= v <= 1.6)
    schemes = {tuple(sorted(values)) for kinds, values in by_line.values() if len(kinds) >= 2 and len(values) == 2}
    if len(schemes) != 1:
        return None
    low, high = next(iter(schemes))
    return Scheme(low, high, f"the report's own cut-points ({low:.3f} / {high:.3f})")


def _is_claim(text: str, m: re.Match[str]) -> bool:
    """Whether the category word states a TBS category (rather than a cut-point, a hedge or another finding)."""
    line_start, line_end = line_span(text, m.start())
    before = text[max(line_start, m.start() - 80) : m.start()]
    after = text[m.end() : min(line_end, m.end() + 60)]
    if _HEDGED_BEFORE.search(before[-24:]) or _HEDGED_AFTER.search(after) or _threshold_numbers(text, m) is not None:
        return False
    if _ANCHOR_AFTER.search(after) or _ANCHOR_BEFORE.search(before[-40:]):
        return True
    return bool(_VALUE_BEFORE.search(before)) and not _NOT_TBS_AFTER.search(after)


def _tbs_like_numbers(text: str, start: int, end: int) -> list[tuple[float, int, int]]:
    """Numbers in ``text[start:end]`` that could be a TBS value (not a cut-point, range end, BMD or percentage)."""
    found = []
    for n in _TBS_LIKE.finditer(text, start, end):
        value = float(n.group(1))
        if not 0.5 <= value <= 2.0:
            continue
        if _NOT_A_VALUE_BEFORE.search(text[max(start, n.start() - 24) : n.start()]):
            continue
        if _NOT_A_VALUE_AFTER.match(text, n.end(), min(end, n.end() + 24)):
            continue
        found.append((value, n.start(), n.end()))
    return found


def claims_about(text: str, value: float, tolerance: float) -> list[Claim]:
    """The categories the report states for the TBS ``value`` (written to within ``tolerance``), in order."""
    out = []
    sentences = sentence_spans(text)
    starts = [a for a, _ in sentences]
    numbers: dict[int, list[tuple[float, int, int]]] = {}
    generic: dict[int, bool] = {}
    for m in _CATEGORY.finditer(text):
        if not _is_claim(text, m):
            continue
        i = bisect_right(starts, m.start()) - 1
        if i < 0 or not sentences[i][0] <= m.start() < sentences[i][1]:
            continue
        s_start, s_end = sentences[i]
        if i not in numbers:
            numbers[i] = _tbs_like_numbers(text, s_start, s_end)
        near = _nearest(numbers[i], m.start(), m.end())
        if near is not None:
            if abs(near - value) > tolerance:
                continue
        else:
            if i not in generic:
                generic[i] = _GENERIC.search(text, s_start, s_end) is not None
            if generic[i]:
                continue
        out.append(Claim(_kind(m), m.start(), m.end()))
    return out


def _nearest(numbers: list[tuple[float, int, int]], start: int, end: int) -> float | None:
    """The number closest to ``text[start:end]`` among ``numbers`` (sorted by position), if any."""
    if not numbers:
        return None
    i = _bisect_numbers(numbers, start)
    candidates = numbers[max(0, i - 1) : i + 1]
    return min(candidates, key=lambda n: min(abs(n[1] - end), abs(start - n[2])))[0]


def _bisect_numbers(numbers: list[tuple[float, int, int]], start: int) -> int:
    """How many of ``numbers`` start at or before ``start``."""
    lo, hi = 0, len(numbers)
    while lo < hi:
        mid = (lo + hi) // 2
        if numbers[mid][1] <= start:
            lo = mid + 1
        else:
            hi = mid
    return lo
