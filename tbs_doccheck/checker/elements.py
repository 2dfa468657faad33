"""Element findings: the only code that reads spaCy spans, turning them into decisions with evidence."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from tbs_doccheck.checker.components import structure
from tbs_doccheck.checker.components.schema import SIGNATURE_GROUP, STATUS_FINAL_LABEL, STATUS_GROUP, TARGET_GROUP
from tbs_doccheck.checker.components.sentences import wrapped
from tbs_doccheck.checker.components.signature import SignatureFinding
from tbs_doccheck.checker.components.tbs_value import TbsCandidate
from tbs_doccheck.checker.patterns import ElementsRules, PatternSet, TbsValueRules
from tbs_doccheck.checker.speedups.fast_regex import Scanner
from tbs_doccheck.checker.speedups.offsets import token_offsets
from tbs_doccheck.models import ELEMENT_IDS, ElementId, Evidence, Signer

#: Evidence spans kept per element (the first ones in the text); rejected mentions kept.
MAX_EVIDENCE = 3
MAX_REJECTED = 5

# Sections whose inline header text ("Comparison: DXA 2021") only covers its own line.
_LINE_SCOPED_SECTIONS = frozenset({"comparison", "history", "indication", "boilerplate"})
# Categories kept apart in ConText (it lets modifiers of one category cut each other's scope:
# "Prior FRAX from 2020: MOF 16%, hip 2.8%" must stay past to the end of the line) but read alike.
_CATEGORY_ALIASES = {"HISTORICAL_LABEL": "HISTORICAL"}
_MODIFIER_REASONS = {
    "NEGATED_EXISTENCE": "negated",
    "HYPOTHETICAL": "hypothetical or conditional",
    "FUTURE": "about a future study",
    "HISTORICAL": "about a prior study or the past",
    "DEFINITION": "generic definition or boilerplate",
    "REFERENCE": "a reference range or threshold",
    "FAMILY": "about someone else",
}
_SECTION_REASONS = {
    "comparison": "in the comparison line",
    "history": "in the history",
    "boilerplate": "in explanatory boilerplate",
    "recommendations": "only in the recommendations/plan",
    "indication": "in the indication",
}


@dataclass
class ElementFinding:
    """What the NLP found for one element, before scoring."""

    element: ElementId
    satisfied: bool
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    rejected: list[Evidence] = field(default_factory=list)
    #: Plain-language reasons the decision needs a person's look (ambiguous structure); empty when clear.
    review: list[str] = field(default_factory=list)


@dataclass
class DocFindings:
    """Every element finding for one report, plus the values read beside them."""

    elements: dict[ElementId, ElementFinding]
    tbs_value: float | None = None
    tbs_region: str | None = None
    signer: Signer | None = None
    signature_status: str | None = None


@dataclass(frozen=True)
class _Compiled:
    placeholder: re.Pattern[str]
    risk_qualifier: re.Pattern[str]
    source_link: re.Pattern[str]
    full_date: Scanner
    year: re.Pattern[str]
    dated_after_value: re.Pattern[str]
    checkbox: re.Pattern[str]
    unticked_option: re.Pattern[str]
    population: re.Pattern[str]
    patient: re.Pattern[str]
    courtesy: re.Pattern[str]
    birth_context: re.Pattern[str]
    citation_before: re.Pattern[str]
    citation_after: re.Pattern[str]


_COMPILED: dict[int, tuple[ElementsRules, _Compiled]] = {}


def _compiled(rules: ElementsRules) -> _Compiled:
    # Keyed by identity: pattern sets are frozen and loaded once, but hold unhashable dicts.
    hit = _COMPILED.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    compiled = _Compiled(
        rules.placeholder.compile(),
        rules.risk_qualifier.compile(),
        rules.source_link.compile(),
        Scanner(rules.full_date.pattern),  # whole-report scan; its groups are digits, which have no case
        rules.year.compile(),
        rules.dated_after_value.compile(),
        rules.checkbox.compile(),
        rules.unticked_option.compile(),
        rules.population_statement.compile(),
        rules.patient_reference.compile(),
        rules.courtesy.compile(),
        rules.birth_context.compile(),
        rules.citation_before.compile(),
        rules.citation_after.compile(),
    )
    _COMPILED[id(rules)] = (rules, compiled)
    return compiled


_TARGET_RULES: dict[int, tuple[PatternSet, dict[str, list[tuple[str, re.Pattern[str]]]]]] = {}


def _target_rules(patterns: PatternSet) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    hit = _TARGET_RULES.get(id(patterns))
    if hit is not None and hit[0] is patterns:
        return hit[1]
    by_label: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for rule in patterns.targets:
        if isinstance(rule.pattern, str):
            by_label.setdefault(rule.category, []).append((rule.metadata.id, re.compile(rule.pattern, re.IGNORECASE)))
    _TARGET_RULES[id(patterns)] = (patterns, by_label)
    return by_label


class _Reader:
    """Per-document helpers: sections, sentences, dates, modifiers, evidence."""

    def __init__(self, doc: Doc, patterns: PatternSet) -> None:
        self.doc = doc
        offsets = token_offsets(doc)
        self.text, self.folded = offsets[0], offsets[4]
        self.rules = patterns.elements
        self.value_range = (patterns.tbs_value.min_value, patterns.tbs_value.max_value)
        self.rx = _compiled(patterns.elements)
        self.target_rules = _target_rules(patterns)
        self.report_year = self._report_year()
        self._sections = self._section_scopes()
        self._starts = [s[0] for s in self._sections]
        # Every section (not only the scoped ones) by start offset, for evidence labels.
        spans = sorted((doc[sec.section_span[0]].idx if sec.section_span[0] < len(doc) else len(self.text), sec.category)
                       for sec in doc._.sections)
        self._all_starts = [s for s, _ in spans]
        self._all_cats = [c for _, c in spans]
        self._by_label: dict[str, list[Span]] = {}
        for span in doc.spans[TARGET_GROUP] if TARGET_GROUP in doc.spans else ():
            self._by_label.setdefault(span.label_, []).append(span)
        self._sent_bounds: list[tuple[int, int]] | None = None
        self._sent_starts: list[int] = []
        self._line_marks: dict[int, tuple[list[tuple[int, int]], list[tuple[int, bool]]]] = {}

    # -- dates --------------------------------------------------------------------------
    def _report_year(self) -> int | None:
        years = [int(next(g for g in m.groups() if g)) for m in self.rx.full_date.finditer(self.text, self.folded)]
        return max(years) if years else None

    def is_past_year(self, year: int) -> bool:
        return self.report_year is not None and year < self.report_year

    # -- sections -----------------------------------------------------------------------
    def _section_scopes(self) -> list[tuple[int, int, str | None, int]]:
        """(body_start_char, scope_end_char, category, title_start_char) for each section."""
        text = self.text
        out: list[tuple[int, int, str | None, int]] = []
        for sec in self.doc._.sections:
            title_start = self.doc[sec.title_span[0]].idx if sec.title_span[0] < len(self.doc) else len(text)
            body_start = self.doc[sec.body_span[0]].idx if sec.body_span[0] < len(self.doc) else len(text)
            body_end = (
                self.doc[sec.body_span[1] - 1].idx + len(self.doc[sec.body_span[1] - 1])
                if sec.body_span[1] > sec.body_span[0]
                else body_start
            )
            cat = sec.category
            if cat is not None:
                line_end = text.find("\n", title_start)
                line_end = len(text) if line_end == -1 else line_end
                inline = text[body_start:line_end].strip() if body_start <= line_end else ""
                blank = re.search(r"\n[ \t]*\n", text[body_start:body_end])
                para_end = body_start + blank.start() if blank else body_end
                if cat in _LINE_SCOPED_SECTIONS and inline:
                    scope_end = self._wrapped_end(line_start_of(text, title_start), line_end)
                else:
                    scope_end = para_end
                out.append((title_start, scope_end, cat, title_start))
        out.sort()
        return out

    def _wrapped_end(self, line_start: int, line_end: int) -> int:
        """Extend a one-line scope over the lines that continue its hard-wrapped sentence."""
        text = self.text
        while line_end < len(text):
            nxt_end = text.find("\n", line_end + 1)
            nxt_end = len(text) if nxt_end == -1 else nxt_end
            if not wrapped(text[line_start:line_end], text[line_end + 1 : nxt_end]):
                break
            line_start, line_end = line_end + 1, nxt_end
        return line_end

    def scoped_section(self, span: Span) -> str | None:
        """The section whose scope holds ``span`` (None outside any scoped section)."""
        pos = span.start_char
        i = bisect_right(self._starts, pos) - 1
        if i < 0:
            return None
        _, end, cat, _ = self._sections[i]
        return cat if pos < end else None

    def section_name(self, span: Span) -> str | None:
        """The medspaCy section category holding the start of ``span``."""
        i = bisect_right(self._all_starts, span.start_char) - 1
        return self._all_cats[i] if i >= 0 else None

    def targets(self, *labels: str) -> list[Span]:
        """Target spans with these labels, in text order."""
        found = [s for label in labels for s in self._by_label.get(label, ())]
        return sorted(found, key=lambda s: (s.start_char, s.end_char))

    # -- context ------------------------------------------------------------------------
    def _parenthetical(self, pos: int) -> tuple[int, int] | None:
        """The innermost ``( … )`` on the same line around ``pos``, as character offsets."""
        text = self.text
        line_start = text.rfind("\n", 0, pos) + 1
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end == -1 else line_end
        open_at = text.rfind("(", line_start, pos)
        if open_at == -1 or text.rfind(")", open_at, pos) != -1:
            return None
        close_at = text.find(")", pos, line_end)
        return (open_at, close_at + 1) if close_at != -1 else None

    def modifiers(self, span: Span) -> list[tuple[str, str, str]]:
        """Effective ConText modifiers of ``span`` as (category, rule id, modifier text).

        A modifier inside a parenthesis ("TBS 1.24 (prior 1.28)", "FRAX (mother with hip fracture):
        MOF 12%") only reaches targets inside the same parenthesis.
        """
        out = []
        for mod in span._.modifiers:
            cat = mod.category
            start, end = mod.modifier_span
            words = self.doc[start:end].text
            paren = self._parenthetical(self.doc[start].idx)
            if paren and not (paren[0] <= span.start_char and span.end_char <= paren[1]):
                continue
            if cat == "HISTORICAL_DATE":
                m = self.rx.year.search(words)
                if not (m and self.is_past_year(int(m.group(0)))) or self._not_an_event_year(start, end):
                    continue
                cat = "HISTORICAL"
            cat = _CATEGORY_ALIASES.get(cat, cat)
            rule_id = (mod.rule.metadata or {}).get("id", cat)
            out.append((cat, rule_id, words))
        return out

    def _not_an_event_year(self, start: int, end: int) -> bool:
        """Whether the year at tokens ``start:end`` dates a birth or a citation, not a past event.

        A date of birth ("DOB 11 2 1956") or a guideline's year ("per the ISCD 2023 positions") sits
        beside current statements; neither makes them history.
        """
        s, e = self.doc[start].idx, self.doc[end - 1].idx + len(self.doc[end - 1])
        line_start = self.text.rfind("\n", 0, s) + 1
        before = self.folded[max(line_start, s - 40):s]
        after = self.folded[e:e + 40]
        return bool(self.rx.birth_context.search(before) or self.rx.citation_before.search(before)
                    or self.rx.citation_after.match(after))

    def _marks(self, line_start: int) -> tuple[list[int], list[int], list[int], list[bool]]:
        """Placeholders (starts, ends) and checkboxes (positions, unticked) on one line, computed once a line."""
        hit = self._line_marks.get(line_start)
        if hit is None:
            text = self.text
            line_end = text.find("\n", line_start)
            line_end = len(text) if line_end == -1 else line_end
            holes = [(m.start(), m.end()) for m in self.rx.placeholder.finditer(text, line_start, line_end)]
            boxes = [(m.start(), not re.search(r"[Xx✓✔☒☑]", m.group(0)))
                     for m in self.rx.checkbox.finditer(text, line_start, line_end)]
            hit = self._line_marks[line_start] = (
                [h[0] for h in holes], [h[1] for h in holes], [b[0] for b in boxes], [b[1] for b in boxes]
            )
        return hit

    def placeholder(self, span: Span) -> bool:
        """Whether ``span`` is (inside) a blank template placeholder or an unticked option."""
        hole_starts, hole_ends, box_pos, box_unticked = self._marks(self.text.rfind("\n", 0, span.start_char) + 1)
        s, e = span.start_char, span.end_char
        i = bisect_right(hole_starts, e - 1) - 1  # the last placeholder starting inside or before the span
        if i >= 0 and hole_ends[i] > s:
            return True  # overlaps or sits inside "___", "[select]", "<value>"
        j = bisect_right(box_pos, s - 1) - 1
        if j >= 0:
            return box_unticked[j]  # the option nearest before the mention is unticked: "[ ] DXA"
        # A field label whose options follow it on the line, none ticked: "Fracture risk: [ ] Low [ ] High".
        after = box_unticked[bisect_right(box_pos, e - 1):]
        return bool(after) and all(after)

    def sentence(self, span: Span) -> str:
        """Text of the sentence holding the start of ``span`` (boundaries read once a document)."""
        if self._sent_bounds is None:
            doc = self.doc
            if doc.has_annotation("SENT_START"):
                self._sent_bounds = [(s.start_char, s.end_char) for s in doc.sents]
            else:
                self._sent_bounds = [(0, len(self.text))]
            self._sent_starts = [b[0] for b in self._sent_bounds]
        i = max(bisect_right(self._sent_starts, span.start_char) - 1, 0)
        start, end = self._sent_bounds[i]
        return self.text[start:max(end, span.end_char)]

    def rule_id(self, span: Span) -> str:
        """The id of the target rule that matched ``span``.

        Looked up from the pattern set rather than ``span._.target_rule``: spaCy keys span
        extensions by offsets, so two rules matching the same words would share one value.
        """
        for rule_id, rx in self.target_rules.get(span.label_, ()):
            m = rx.match(self.text, span.start_char)
            if m and m.end() <= span.end_char + 1:
                return rule_id
        return span.label_

    def evidence(self, span: Span, reason: str) -> Evidence:
        s, e = span.start_char, span.end_char
        rule_id = self.rule_id(span)
        return Evidence(text=self.text[s:e], start=s, end=e, section=self.section_name(span),
                        rule_id=rule_id or span.label_, reason=reason)

    def rejection(self, span: Span, element: ElementId) -> str | None:
        """Why a mention does not count for ``element`` (None when it counts)."""
        if self.placeholder(span):
            return "a blank template placeholder"
        policy = self.rules.elements[element]  # type: ignore[index]
        for cat, rule_id, words in self.modifiers(span):
            if cat in policy.disqualifying_modifiers:
                return f"{_MODIFIER_REASONS.get(cat, cat.lower())} ('{_one_line(words)}', {rule_id})"
        sec = self.scoped_section(span)
        if sec in policy.excluded_sections:
            return _SECTION_REASONS.get(sec, f"in the {sec} section")
        if element in ("fracture_risk", "recommendations"):
            return self.generic(span)
        return None

    def generic(self, span: Span) -> str | None:
        """Why the sentence holding ``span`` is not about this patient (None when it may be).

        A guideline or teaching sentence names a population ("women whose FRAX exceeds…", "people with a
        lower TBS…") and never this patient; a courtesy formula ("thank you for the referral") is no plan.
        """
        sentence = self.sentence(span)
        if self.rx.courtesy.search(sentence):
            return "a courtesy formula, not a plan"
        if self.rx.population.search(sentence) and not self.rx.patient.search(sentence):
            return "a general statement about a population, not about this patient"
        return None


def line_start_of(text: str, pos: int) -> int:
    """Offset of the start of the line holding ``pos``."""
    return text.rfind("\n", 0, pos) + 1


def _one_line(s: str, limit: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _imaging_source(r: _Reader) -> ElementFinding:
    ev: list[Evidence] = []
    rej: list[Evidence] = []
    for span in r.targets("MODALITY", "MODALITY_OTHER"):
        if len(ev) >= MAX_EVIDENCE:
            break  # enough to show; a long report need not be read to the end
        why = r.rejection(span, "imaging_source")
        if why is None and span.label_ == "MODALITY_OTHER" and not r.rx.source_link.search(r.sentence(span)):
            why = "not stated to be the source of the TBS"
        if why:
            rej.append(r.evidence(span, f"does not count: {why}"))
        else:
            ev.append(r.evidence(span, "names the imaging study that gave the TBS"))
    if ev:
        return ElementFinding("imaging_source", True, f"Imaging study named: '{_one_line(ev[0].text)}'.", ev[:MAX_EVIDENCE], rej[:MAX_REJECTED])
    if rej:
        return ElementFinding("imaging_source", False,
                              f"The only modality mentions do not describe this exam: {rej[0].reason.removeprefix('does not count: ')}.",
                              [], rej[:MAX_REJECTED])
    return ElementFinding("imaging_source", False,
                          "No imaging modality (DXA/DEXA, densitometry, bone density scan) is named as the TBS source.")


def _tbs_value(r: _Reader, rules: TbsValueRules | None = None) -> tuple[ElementFinding, float | None, str | None]:
    """The current study's TBS: every candidate the value finder tied to a TBS mention, judged by its
    context; then the report's later parts (a signed addendum that corrects or withdraws the TBS), the
    region (L1-L4 first) and, when two different values are left with nothing to tell them apart, a
    review reason."""
    lo, hi = r.value_range
    accepted: list[tuple[Span, TbsCandidate]] = []
    impossible: list[tuple[Span, TbsCandidate]] = []
    rej: list[Evidence] = []
    for span in r.targets("TBS_VALUE"):
        cand: TbsCandidate = span._.tbs
        why = _value_rejection(r, span, cand)
        if why:
            rej.append(r.evidence(span, f"does not count: {why}"))
            continue
        if lo <= cand.value <= hi:
            accepted.append((span, cand))
        else:
            impossible.append((span, cand))
            rej.append(r.evidence(span, f"does not count: {cand.value:g} is outside the possible {lo:.3f}-{hi:.3f} range"))
    review: list[str] = []
    ranked, withdrawn = _later_parts(r, rules, accepted, review)
    for span, why in withdrawn:
        rej.append(r.evidence(span, f"does not count: {why}"))
    if ranked:
        top = max(rank for rank, _, _ in ranked)
        group = [(s, c) for rank, s, c in ranked if rank == top]
        clear = [a for a in group if a[1].review is None] or group
        preferred = [a for a in clear if a[1].region == "L1-L4"] or clear
        span, cand = preferred[0]
        if cand.review:
            review.append(cand.review)
        others = sorted({_shown(r, c) for _, c in clear if not _same_value(r, c, cand)
                         and (c.region == cand.region or c.region is None or cand.region is None)})
        if others:
            review.append(f"different TBS values are given for this study ({_shown(r, cand)} and {', '.join(others)}) "
                          "and nothing tells which is current; the first was taken")
        ev = [r.evidence(span, f"TBS {cand.value:g}" + (f" ({cand.region})" if cand.region else "") + " measured on this study")]
        ev += [r.evidence(s, "same or another region's TBS") for s, c in group if s is not span][:2]
        region = f" for {cand.region}" if cand.region else ""
        return (ElementFinding("tbs_value", True, f"Current TBS{region}: {_shown(r, cand)}.", ev, rej[:MAX_REJECTED],
                               review=review), cand.value, cand.region)
    if impossible:
        c = impossible[0][1]
        return (ElementFinding("tbs_value", False,
                               f"The stated TBS {_shown(r, c)} is impossible (outside {lo:.3f}-{hi:.3f}).",
                               [], rej[:MAX_REJECTED], review=review), None, None)
    if rej:
        return (ElementFinding("tbs_value", False,
                               f"No numeric TBS for the current study: the only TBS number is {rej[0].reason.removeprefix('does not count: ')}.",
                               [], rej[:MAX_REJECTED], review=review), None, None)
    return (ElementFinding("tbs_value", False, "No numeric TBS value for the current study is stated.", [], [],
                           review=review), None, None)


def _shown(r: _Reader, cand: TbsCandidate) -> str:
    return r.text[cand.value_start:cand.value_end]


def _same_value(r: _Reader, a: TbsCandidate, b: TbsCandidate) -> bool:
    """Whether two numbers are the same TBS written to different precision (1.2537 and 1.254)."""
    decimals = min(_decimals(_shown(r, x)) for x in (a, b))
    return abs(a.value - b.value) <= 0.5 * 10 ** -decimals + 1e-9


def _decimals(raw: str) -> int:
    """Digits after the decimal mark of a number as written ("1.2537": 4; "one point two five": 2)."""
    head, mark, tail = raw.replace(",", ".").partition(".")
    if mark:
        return len(tail)
    return max(len(raw.split()) - 2, 0)


def _value_rejection(r: _Reader, span: Span, cand: TbsCandidate) -> str | None:
    """Why a TBS candidate is not this study's measured value (None when it is)."""
    if cand.excluded:
        return cand.excluded
    if cand.reference:
        return f"a threshold or reference value ('{cand.reference}')"
    why = _context_rejection(r, span, cand)
    if why:
        return why
    dated = r.rx.dated_after_value.match(r.text, cand.value_end)
    since = max(span.start_char, cand.current_from or 0)  # years before a switch ("…in 2023, now 1.255") are the earlier value's
    if since > span.start_char and not cand.series:
        # …unless they bound a period wholly in the past: "between 2019 and 2021 TBS fell from 1.33 to 1.31"
        line_start = r.text.rfind("\n", 0, span.start_char) + 1
        clause = max([line_start, span.start_char - 80] + [r.text.rfind(c, 0, span.start_char) + 1 for c in ".;:"])
        before = {int(r.text[m.start():m.end()]) for m in r.rx.year.finditer(r.text, clause, since)
                  if not _year_not_a_study(r, m.start(), m.end())}
        if len(before) >= 2 and all(r.is_past_year(y) for y in before):
            return f"a change over past years ({min(before)}-{max(before)})"
    years = [(m.start(), m.end()) for m in r.rx.year.finditer(r.text, since, cand.value_start)]
    if dated:
        years.append((dated.start(1), dated.end(1)))
    for s, e in years:
        year = int(r.text[s:e])
        if r.is_past_year(year) and not _year_not_a_study(r, s, e):
            return f"a prior study's value ({year})"
    return None


def _year_not_a_study(r: _Reader, s: int, e: int) -> bool:
    """Whether a year beside a value dates a birth or a citation ("per ISCD 2023"), not a study."""
    line_start = r.text.rfind("\n", 0, s) + 1
    before, after = r.folded[max(line_start, s - 40):s], r.folded[e:e + 40]
    return bool(r.rx.birth_context.search(before) or r.rx.citation_before.search(before)
                or r.rx.citation_after.match(after))


def _context_rejection(r: _Reader, span: Span, cand: TbsCandidate) -> str | None:
    """:meth:`_Reader.rejection` for a TBS value, read where the value sits.

    For a value the text switches to ("previously 1.301, now 1.255") history words written before
    the switch describe the earlier number, not this one; a table cell is judged by its own row, not
    by header words above it. An OBX segment's units and range fields ("{index}") and JSON braces are
    not template placeholders.
    """
    if cand.layout not in ("obx", "fhir") and r.placeholder(span):
        return "a blank template placeholder"
    policy = r.rules.elements["tbs_value"]
    pos = cand.current_from
    # A table cell's study is its column's or row's: words in the header lines above say nothing more.
    row = r.text.rfind("\n", 0, cand.value_start) + 1 if cand.layout in ("table_row", "column_table") else None
    for cat, rule_id, words in r.modifiers(span):
        if cat in policy.disqualifying_modifiers:
            if pos is not None and cat == "HISTORICAL" and r.text.find(words, pos, span.end_char + 120) == -1:
                continue
            if row is not None and r.text.find(words, row, span.end_char + 120) == -1:
                continue
            return f"{_MODIFIER_REASONS.get(cat, cat.lower())} ('{_one_line(words)}', {rule_id})"
    sec = r.scoped_section(span)
    if sec in policy.excluded_sections:
        return _SECTION_REASONS.get(sec, f"in the {sec} section")
    return None


_MENTION_RX: dict[int, tuple[TbsValueRules, re.Pattern[str]]] = {}
_SENTENCE = re.compile(r"(?:[^.!?]|\.(?=\d))+(?:[.!?]|$)")


def _later_parts(r: _Reader, rules: TbsValueRules | None, accepted: list[tuple[Span, TbsCandidate]],
                 review: list[str]) -> tuple[list[tuple[int, Span, TbsCandidate]], list[tuple[Span, str]]]:
    """Rank the accepted values by the report part they sit in, and drop those a signed part withdraws.

    A signed addendum (amendment, correction) outranks what came before it: its TBS is the current
    one. One that declares the TBS invalid or withdrawn leaves none of the values before it (nor
    those in the withdrawing sentence). An unsigned part still outranks the original, with a review
    reason when it changes the value.

    Returns:
        ``(rank, span, candidate)`` for the values kept (rank 0: the original report) and
        ``(span, reason)`` for the values withdrawn.
    """
    parts = structure.later_parts(r.text) if accepted else []
    if not parts:
        return [(0, s, c) for s, c in accepted], []
    mention = _mention_rx(rules)
    signed = [_part_signed(r, p) for p in parts]
    withdrawn: list[tuple[Span, str]] = []
    kept = list(accepted)
    for p, ok in zip(parts, signed, strict=True):
        if not ok:
            continue
        for sm in _SENTENCE.finditer(r.text, p.start, p.end):
            sentence = sm.group(0)
            word = structure.retracts(sentence) if mention is None or mention.search(sentence) else None
            if not word:
                continue
            why = f"withdrawn as invalid by a signed later part ('{_one_line(p.heading, 40)}': '{word}')"
            gone = [(s, c) for s, c in kept if c.value_start < p.start or (
                sm.start() <= c.value_start < sm.end() and not structure.replaced_at(sentence, c.value_start - sm.start()))]
            withdrawn += [(s, why) for s, _ in gone]
            kept = [a for a in kept if a not in gone]
    ranked = []
    for span, cand in kept:
        rank = 0
        for k, p in enumerate(parts):
            if p.start <= cand.value_start < p.end:
                rank = 2 * (k + 1) if signed[k] else 2 * k + 1
        ranked.append((rank, span, cand))
    if ranked:
        top = max(rank for rank, _, _ in ranked)
        if top % 2 == 1:
            lower = [c for rank, _, c in ranked if rank < top]
            upper = [c for rank, _, c in ranked if rank == top]
            if lower and not any(_same_value(r, a, b) for a in upper for b in lower):
                review.append("the TBS is changed in a later part of the report that is not signed")
    return ranked, withdrawn


def _part_signed(r: _Reader, part: structure.Part) -> bool:
    """Whether a later part carries its own signing statement (and no not-final status)."""
    sig = r.doc.spans.get(SIGNATURE_GROUP, ())
    signed = any(part.start <= s.start_char < part.end and s._.signature is not None and not s._.signature.negated
                 for s in sig)
    if not signed:
        return False
    status = r.doc.spans.get(STATUS_GROUP, ())
    return not any(part.start <= s.start_char < part.end and s.label_ != STATUS_FINAL_LABEL for s in status)


def _mention_rx(rules: TbsValueRules | None) -> re.Pattern[str] | None:
    if rules is None:
        return None
    hit = _MENTION_RX.get(id(rules))
    if hit is None or hit[0] is not rules:
        hit = _MENTION_RX[id(rules)] = (rules, rules.mention.compile())
    return hit[1]


def _fracture_risk(r: _Reader) -> ElementFinding:
    ev: list[Evidence] = []
    rej: list[Evidence] = []
    for span in r.targets("RISK", "RISK_NUM"):
        if len(ev) >= MAX_EVIDENCE and any(e.rule_id.startswith("T-RISK-") and "FRAX" not in e.rule_id for e in ev):
            break  # enough to show (a qualitative statement among them); no need to read on
        why = r.rejection(span, "fracture_risk")
        if why is None and span.label_ == "RISK" and not r.rx.risk_qualifier.search(
            r.rx.placeholder.sub(" ", r.rx.unticked_option.sub(" ", r.sentence(span)))
        ):
            why = "a mention of fracture risk without an assessment (no level or probability)"
        if why:
            rej.append(r.evidence(span, f"does not count: {why}"))
        else:
            kind = "quantitative" if span.label_ == "RISK_NUM" else "qualitative"
            ev.append(r.evidence(span, f"{kind} fracture-risk assessment for this patient"))
    if ev:
        ev.sort(key=lambda e: (e.rule_id.startswith("T-RISK-FRAX"), e.start))
        return ElementFinding("fracture_risk", True, f"Fracture risk assessed: '{_one_line(ev[0].text)}'.", ev[:MAX_EVIDENCE], rej[:MAX_REJECTED])
    if rej:
        return ElementFinding("fracture_risk", False,
                              f"Fracture risk is mentioned but not assessed for this patient: {rej[0].reason.removeprefix('does not count: ')}.",
                              [], rej[:MAX_REJECTED])
    return ElementFinding("fracture_risk", False,
                          "No fracture-risk assessment (fracture risk, risk of fracture, FRAX probability) is stated.")


def _recommendations(r: _Reader) -> ElementFinding:
    ev: list[Evidence] = []
    rej: list[Evidence] = []
    plan = set(r.rules.plan_sections)
    for span in r.targets("REC", "REC_ITEM"):
        if len(ev) >= MAX_EVIDENCE:
            break  # enough to show; a long report need not be read to the end
        in_plan = r.scoped_section(span) in plan
        if span.label_ == "REC_ITEM" and not in_plan:
            continue
        why = r.rejection(span, "recommendations")
        if why:
            rej.append(r.evidence(span, f"does not count: {why}"))
        else:
            ev.append(r.evidence(span, "a recommendation or plan for this patient"))
    if ev:
        return ElementFinding("recommendations", True, f"Recommendation given: '{_one_line(ev[0].text)}'.", ev[:MAX_EVIDENCE], rej[:MAX_REJECTED])
    if rej:
        return ElementFinding("recommendations", False,
                              f"No usable recommendation: the only one is {rej[0].reason.removeprefix('does not count: ')}.",
                              [], rej[:MAX_REJECTED])
    return ElementFinding("recommendations", False,
                          "No recommendation or plan is given (the heading is missing, empty, 'none' or a placeholder).")


def _signature(doc: Doc, r: _Reader) -> tuple[ElementFinding, Signer | None, str]:
    sig_spans = sorted(doc.spans[SIGNATURE_GROUP], key=lambda s: s.start_char) if SIGNATURE_GROUP in doc.spans else []
    status = sorted(doc.spans[STATUS_GROUP], key=lambda s: s.start_char) if STATUS_GROUP in doc.spans else []
    rej: list[Evidence] = []
    qualified: list[tuple[Span, SignatureFinding]] = []
    unclear: list[str] = []
    for span in sig_spans:
        f: SignatureFinding = span._.signature
        who = ", ".join(x for x in (f.name, f.credential) if x) or "no name"
        if f.negated:
            rej.append(_sig_ev(r, span, f, f"says the report is not signed ({who})"))
        elif f.kind == "proxy":
            rej.append(_sig_ev(r, span, f, "signed on someone else's behalf or in their absence, not by a qualified professional"
                               + (f" ({who})" if f.name or f.credential else "")))
        elif f.kind == "not_report":
            rej.append(_sig_ev(r, span, f, f"signs an order, requisition or consent, not this report ({who})"))
        elif f.kind == "staff":
            rej.append(_sig_ev(r, span, f, f"signed by clinical staff, not a qualified professional ({who})"))
        elif f.kind == "trainee":
            rej.append(_sig_ev(r, span, f, f"signed by a trainee; the attending's final signature is required ({who})"))
        elif f.name is None:
            rej.append(_sig_ev(r, span, f, "signing statement with no signer named"))
        elif f.kind == "bare_dr":
            rej.append(_sig_ev(r, span, f, f"signer is only 'Dr. {f.name}', with no credential or qualifying role: "
                                           "the qualification is not established"))
            if f.review:
                unclear.append(f.review)
        elif f.kind != "qualified":
            rej.append(_sig_ev(r, span, f, f"signer's credential is not a physician, NP or PA ({who})"))
        elif r.scoped_section(span) in ("comparison", "history") or _PRIOR_REPORT.search(_line_of(r.text, f.start)):
            rej.append(_sig_ev(r, span, f, f"a prior or outside report's signature, not this report's ({who})"))
        else:
            qualified.append((span, f))
    finals = [s for s in status if s.label_ == STATUS_FINAL_LABEL]
    not_final = [s for s in status if s.label_ != STATUS_FINAL_LABEL]
    if not qualified:
        if rej:
            reason = f"No qualified signature: {rej[-1].reason}."
        elif not_final:
            reason = f"Report is not final ('{_one_line(not_final[0].text)}') and carries no signing statement."
        else:
            reason = "No signing statement (electronically signed, /s/, signed by, attested by) by a physician, NP or PA."
        status_word = _status_word(not_final) if not_final else "unsigned"
        # A bare "Dr." is the one case where a person could tell what the text cannot (unless the report is not final anyway).
        review = unclear[-1:] if unclear and not not_final else []
        return ElementFinding("signature", False, reason, [], rej[:MAX_REJECTED], review), None, status_word
    span, f = qualified[-1]
    trainee_signed = any(s._.signature.kind == "trainee" for s in sig_spans)
    blocking = []
    for marker in not_final:
        # A preliminary or draft marker is lifted when the report states it is final ("supersedes the preliminary
        # report", "corrected and finalized") before the qualified signature ends, and that signature comes after the
        # marker or the final statement stands right by it ("Final report. Signed … after the fellow's preliminary
        # read"); any marker is lifted by a later signature the signer gives as the attending.
        later = span.start_char > marker.start_char
        supersedable = bool(re.search(r"prelim|draft|provisional|wet", marker.text, re.IGNORECASE))
        final_before = [fm for fm in finals if fm.start_char < span.end_char]
        # The attending's signature finalises a trainee's read or a marker waiting for the attending; a report that
        # calls itself preliminary and carries only a consultant's signature stays preliminary.
        awaits_attending = trainee_signed or bool(_AWAITS_ATTENDING.search(_line_of(r.text, marker.start_char)))
        cleared = (later and f.attending and awaits_attending) or (supersedable and bool(final_before) and (
            later or any(abs(fm.start_char - marker.start_char) <= 200 for fm in final_before)))
        if not cleared:
            blocking.append(marker)
    # An addendum after the signature with no qualified signature of its own is unsigned: when it carries the TBS,
    # the risk or the plan, the interpretation is not attested (elements.md, Document parts).
    # ``span`` is the last qualified signature: no qualified professional signed after such an addendum's heading.
    for head in _ADDENDUM_HEAD.finditer(r.text, span.end_char):
        if _ADDENDUM_HOLDS.search(r.text, head.start(), head.start() + 2000):
            rej.append(Evidence(text=head.group(0).strip(), start=head.start(), end=head.end(), section=r.section_name(span),
                                rule_id="G-ADDENDUM-UNSIGNED", reason="an addendum after the signature is not signed"))
            reason = (f"An addendum after {f.name or 'the'}'s signature carries no signature of its own "
                      f"('{_one_line(head.group(0))}'); its findings are not attested.")
            return (ElementFinding("signature", False, reason, [], rej[:MAX_REJECTED]),
                    Signer(name=f.name or "", credential=f.credential), "unsigned")
    if blocking:
        m = blocking[0]
        rej.append(Evidence(text=r.text[m.start_char:m.end_char], start=m.start_char, end=m.end_char,
                            section=r.section_name(m), rule_id=m._.status or "G-STATUS",
                            reason="report status is not final"))
        reason = f"Report is {_status_word(blocking)} ('{_one_line(m.text)}'); a final signature by a qualified professional is required."
        return ElementFinding("signature", False, reason, [], rej[:MAX_REJECTED]), Signer(name=f.name or "", credential=f.credential), _status_word(blocking)
    signer = Signer(name=f.name or "", credential=f.credential)
    who = ", ".join(x for x in (f.name, f.credential) if x)
    ev = [_sig_ev(r, span, f, "signing statement by a qualified professional")]
    review = [f.review] if f.review else []  # a signer placed where the layout leaves doubt
    return ElementFinding("signature", True, f"Signed by {who}.", ev, rej[:MAX_REJECTED], review), signer, "final"


#: A signature line quoting another report ("Prior report (2022) electronically signed by …").
_PRIOR_REPORT = re.compile(r"\b(?:prior|previous|earlier|outside|comparison|old)\s+(?:report|study|exam|dxa|dexa|scan)\b",
                           re.IGNORECASE)


def _line_of(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[line_start_of(text, pos) : len(text) if end == -1 else end]


#: An addendum's heading line, and what makes one hold the interpretation (value, risk or plan).
_ADDENDUM_HEAD = re.compile(r"^[^\w\n]{0,10}(?:addendum|amendment)\b[^\n]{0,80}", re.IGNORECASE | re.MULTILINE)
_ADDENDUM_HOLDS = re.compile(r"\b(?:tbs|trabecular|frax|fracture|risk|recommend\w*|plan|therap\w*|treat\w*|dxa|dexa)\b",
                             re.IGNORECASE)


#: A not-final marker about a trainee's read or the attending's review ("Attending review: pending").
_AWAITS_ATTENDING = re.compile(r"\b(?:attending|resident|fellow|trainee|registrar|house\s+officer|PGY|co-?sign\w*|consultant|staff)\b",
                               re.IGNORECASE)


def _status_word(markers: list[Span]) -> str:
    text = " ".join(m.text.lower() for m in markers)
    for word, status in (("prelim", "preliminary"), ("provisional", "preliminary"), ("wet read", "preliminary"),
                         ("draft", "draft"), ("pending", "pending"), ("await", "pending"),
                         ("not signed", "unsigned"), ("unsigned", "unsigned")):
        if word in text:
            return status
    return "not final"


def _sig_ev(r: _Reader, span: Span, f: SignatureFinding, reason: str) -> Evidence:
    return Evidence(text=r.text[f.start:f.end], start=f.start, end=f.end, section=r.section_name(span),
                    rule_id=f.rule_id, reason=reason)


def extract(doc: Doc, patterns: PatternSet) -> DocFindings:
    """Decide every element for one processed document.

    Args:
        doc: A document run through :func:`tbs_doccheck.checker.pipeline.build_nlp`'s pipeline.
        patterns: The pattern set the pipeline was built from.

    Returns:
        The five element findings with their evidence, the TBS value and the signer.
    """
    r = _Reader(doc, patterns)
    tbs, value, region = _tbs_value(r, patterns.tbs_value)
    sig, signer, status = _signature(doc, r)
    found = {
        "imaging_source": _imaging_source(r),
        "tbs_value": tbs,
        "fracture_risk": _fracture_risk(r),
        "recommendations": _recommendations(r),
        "signature": sig,
    }
    elements = {eid: found[eid] for eid in ELEMENT_IDS}
    return DocFindings(elements, value if tbs.satisfied else None, region if tbs.satisfied else None,
                       signer if sig.satisfied else None, status)
