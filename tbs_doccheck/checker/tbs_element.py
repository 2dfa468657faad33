"""The ``tbs_value`` element: judging the TBS candidates, later report parts and the value kept."""

from __future__ import annotations

import re

from spacy.tokens import Span

from tbs_doccheck.checker.components import structure
from tbs_doccheck.checker.components.schema import SIGNATURE_GROUP, STATUS_FINAL_LABEL, STATUS_GROUP
from tbs_doccheck.checker.components.tbs_numbers import TbsCandidate
from tbs_doccheck.checker.elements import (
    _MODIFIER_REASONS,
    _SECTION_REASONS,
    MAX_REJECTED,
    ElementFinding,
    _one_line,
    _Reader,
)
from tbs_doccheck.checker.patterns import TbsValueRules
from tbs_doccheck.models import Evidence


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
            rej.append(r.evidence(span, f"does not count: {cand.value:g} is outside the possible {lo:.3f}-{hi:.3f} "
                                        f"range"))
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
        not_done = _not_obtained(r, cand)
        if not_done:
            review.append(f"the report also says the TBS was not obtained on this study ('{_one_line(not_done, 60)}'), "
                          "yet gives a value")
        ev = [r.evidence(span, f"TBS {cand.value:g}" + (f" ({cand.region})" if cand.region else "") + " measured on "
                                                                                                      "this study")]
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
                               f"No numeric TBS for the current study: the only TBS number is "
                               f"{rej[0].reason.removeprefix('does not count: ')}.",
                               [], rej[:MAX_REJECTED], review=review), None, None)
    return (ElementFinding("tbs_value", False, "No numeric TBS value for the current study is stated.", [], [],
                           review=review), None, None)


#: A statement that no TBS came from this study ("TBS was not performed on today's study").
_NOT_OBTAINED = re.compile(
    r"\b(?:TBS|trabecular\s+bone\s+score)\b(?![\s-]*(?:adj|corrected|t-?score|z-?score))[^.\n]{0,40}?\b(?:(?:was|were|is)\s+)?(?:not\s+(?:be\s+)?(?:performed|"
    r"calculated|obtained|done|generated|measured|computed|reportable|available)|could\s*n[o']t\s+be\s+"
    r"(?:calculated|obtained|computed|measured|performed|generated))\b", re.IGNORECASE)


def _not_obtained(r: _Reader, cand: TbsCandidate) -> str | None:
    """A statement elsewhere that this study gave no TBS, about neither a prior study nor a condition."""
    for m in _NOT_OBTAINED.finditer(r.text):
        if m.start() <= cand.value_start <= m.end() + 80:
            continue  # the value's own sentence ("TBS 1.21, not calculated by the old software") is read there
        sentence = r.text[max(0, m.start() - 60):m.end() + 60]
        if re.search(r"\b(?:prior|previous|earlier|last|if|unless|would|should)\b", sentence, re.IGNORECASE):
            continue
        return m.group(0)
    return None


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
    # Years before a switch ("…in 2023, now 1.255") are the earlier value's.
    since = max(span.start_char, cand.current_from or 0)
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
    originals = structure.original_reports(r.text)
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
            gone = [(s, c) for s, c in kept if c.value_start < p.start
                    or any(a <= c.value_start < b for a, b in originals)
                    or (sm.start() <= c.value_start < sm.end()
                        and not structure.replaced_at(sentence, c.value_start - sm.start()))]
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
