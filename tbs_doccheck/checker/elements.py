"""Element findings: their records and ``_Reader``, the per-document span reading behind every element decision."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from tbs_doccheck.checker.components.schema import TARGET_GROUP, TBS_VALUE_LABEL
from tbs_doccheck.checker.components.sentences import wrapped
from tbs_doccheck.checker.patterns import ElementsRules, PatternSet
from tbs_doccheck.checker.speedups.fast_regex import Scanner
from tbs_doccheck.checker.speedups.offsets import token_offsets
from tbs_doccheck.models import ElementId, Evidence, Signer

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
# What may follow a pasted report's heading on its line: a date, "(for reference)", a separator.
_DETAIL_ONLY = re.compile(r"[\s:()\-–—=*#/.,\d]*(?:(?:for\s+reference|for\s+comparison|dated?|of|on|from|reproduced|"
                          r"below|follows|attached|copied|pasted|by|records?|for|comparison|reference|office|"
                          r"requesting|scanned|faxed|the|as|received|"
                          r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?)[\s:()\-–—=*#/.,\d]*)*",
                          re.IGNORECASE)
# Where the current report resumes after a pasted one ("CURRENT REPORT", "Today's study", "END OF PRIOR REPORT").
_RESUME = re.compile(r"(?im)^[ \t*#>=\-]*(?:(?:current|today'?s|this|new)\s+(?:report|study|exam\w*|result|reading|"
                     r"interpretation)\b|end\s+of\s+(?:the\s+)?(?:prior|previous|old|outside|earlier|quoted)\b|"
                     r"addend(?:um|a)\b)")
_Scope = tuple[int, int, "str | None", int]
# A line-start label ending in a colon, and what follows it on the line: "Outside records (DXA 06/2021): …".
_LEAD_IN = re.compile(r"(?m)^([^\n:]{3,160}):[ \t]*([^\n]*)$")
_YEAR_IN_LABEL = re.compile(r"(?<![\d/.-])(?:\d{1,2}[/.-]){0,2}((?:19|20)\d\d)(?![\d/.-]|:\d)")
_LEAD_IN_DOCUMENT = re.compile(r"\b(?:dxa|dexa|scan|study|exam|records?|reports?|results?|letter|tbs|bmd|densitometry|"
                               r"outside|prior|previous|quoted)\b", re.IGNORECASE)
_SECTION_REASONS = {
    "prior_report": "in a previous report quoted for reference",
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
        spans = sorted((doc[sec.section_span[0]].idx if sec.section_span[0] < len(doc) else len(self.text),
                        sec.category) for sec in doc._.sections)
        self._all_starts = [s for s, _ in spans]
        self._all_cats = [c for _, c in spans]
        self._by_label: dict[str, list[Span]] = {}
        for span in doc.spans.get(TARGET_GROUP, ()):
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
            # An indented heading's title span starts at the line break and indent before it ("\n  HISTORY:").
            title_start += len(text[title_start:title_start + 80]) - len(text[title_start:title_start + 80].lstrip())
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
                if cat == "prior_report" and not _DETAIL_ONLY.fullmatch(inline):
                    cat = "comparison"  # "Prior report: none available", "Previous result: 1.301 (2021)": one line
                if cat in _LINE_SCOPED_SECTIONS and inline:
                    scope_end = self._wrapped_end(line_start_of(text, title_start), line_end)
                elif cat == "prior_report":
                    # A previous report pasted whole runs, with its own headings, until the current report resumes.
                    resume = _RESUME.search(text, line_end)
                    scope_end = resume.start() if resume else len(text)
                else:
                    scope_end = para_end
                out.append((title_start, scope_end, cat, title_start))
        out.sort()
        quoted = [(a, b) for a, b, c, _ in out if c == "prior_report"]
        out = [sec for sec in out if not any(a < sec[0] < b for a, b in quoted)]
        return self._with_dated_lead_ins(out)

    def _with_dated_lead_ins(self, out: list[_Scope]) -> list[_Scope]:
        """Add the text introduced by a lead-in dated to an earlier year as a comparison scope.

        "Outside records (Lakeside Imaging, DXA 06/2021): "TBS 1.270 …"" or a label line ending in a colon
        over a quoted block: what follows belongs to that earlier study or letter (the rest of the line, or
        the lines up to the next blank one). The section around it carries on after it.
        """
        if self.report_year is None:
            return out
        text = self.text
        added = []
        for m in _LEAD_IN.finditer(text):
            label = m.group(1)
            years = [int(y) for y in _YEAR_IN_LABEL.findall(label)]
            # Two years back at least: a report read a month after its outside exam ("from an outside facility
            # (12/2024):" in a January 2025 note) is still the current study; repeat scans are years apart.
            if not years or max(years) > self.report_year - 2 or not _LEAD_IN_DOCUMENT.search(label):
                continue
            if self.rx.birth_context.search(label.lower()):
                continue
            start = m.end(1) + 1
            end = m.end()
            if not m.group(2).strip():
                blank = re.search(r"\n[ \t]*\n", text[end:end + 2000])
                end = end + blank.start() if blank else min(len(text), end + 2000)
            added.append((start, end))
        if not added:
            return out
        for start, end in added:
            around = [sec for sec in out if sec[0] <= start < sec[1]]
            out.append((start, end, "comparison", start))
            if around and around[-1][1] > end:
                out.append((end, around[-1][1], around[-1][2], around[-1][3]))
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
            if span.start <= start and end <= span.end and span.label_ != TBS_VALUE_LABEL:
                # A rule's own words ("management deferred to the referring …") don't modify it; a TBS value
                # span runs from the TBS word to the number, and what lies between ("TBS.prior=1.301") does.
                continue
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
            if rule_id == "C-HIST-HX" and words.lower().startswith("had") and self._dated_this_year(span):
                continue  # a letter's "she had a DEXA scan here on 11 March 2024": this exam, told in the past tense
            out.append((cat, rule_id, words))
        return out

    def _dated_this_year(self, span: Span) -> bool:
        """Whether the sentence holding ``span`` dates it with a full date in the report's (latest) year."""
        if self.report_year is None:
            return False
        sentence = self.sentence(span)
        return any(int(next(g for g in m.groups() if g)) == self.report_year
                   for m in self.rx.full_date.finditer(sentence))

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
