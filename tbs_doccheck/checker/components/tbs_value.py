"""The ``tbs_value`` component: ties each TBS number to its TBS mention and region, as target spans."""


import re
from bisect import bisect_left
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from tbs_doccheck.checker.components.schema import TARGET_GROUP, TBS_EXT, TBS_VALUE_LABEL, register_extensions
from tbs_doccheck.checker.patterns import TbsValueRules
from tbs_doccheck.checker.speedups.fast_regex import Scanner
from tbs_doccheck.checker.speedups.offsets import fold_case, token_offsets
from tbs_doccheck.checker.speedups.spans import char_span

_CELL_SPLIT = re.compile(r"\s*\|\s*|\t+|\s{2,}")
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[A-Z])")
_Values = tuple[list[re.Match[str]], list[int]]
_MAX_TABLE_LINE = 400
_VALUE_LIST_CHARS = 240
_CELL = re.compile(r"[^|\t ]+(?: [^|\t ]+)*")
_EMPTYISH = re.compile(r"^[\s:=|()\-–]*$")
# "TBS BY REGION", "Trabecular bone score results:" — a heading above a region list.
_HEADERISH = re.compile(r"^[^\d\n]{0,40}$")


@dataclass(frozen=True, slots=True)
class TbsCandidate:
    """A number read as a TBS value, with where it came from.

    Attributes:
        value: The number as a float (a decimal comma read as a point).
        value_start: Offset of the number in the report text.
        value_end: End offset of the number.
        region: Normalised vertebral region ("L1-L4") or None.
        layout: How it was read: ``inline``, ``next_line``, ``region_list`` or ``column_table``.
        reference: Why the number looks like a threshold rather than a measurement, or None.
    """

    value: float
    value_start: int
    value_end: int
    region: str | None
    layout: str
    reference: str | None = None


def normalise_region(raw: str) -> str:
    """``(L1 - L4)`` → ``L1-L4``; ``L1,L3-L4`` stays itself."""
    s = re.sub(r"[()\s]", "", raw.upper())
    s = re.sub(r"(?:TO|THROUGH|–|—)", "-", s)
    s = re.sub(r"(?<=[-,])(?=\d)", "L", s)
    return s


def _to_float(raw: str) -> float:
    return float(raw.replace(",", "."))


class TbsValueFinder:
    """Finds TBS values: inline (``TBS L1-L4: 1.254``), on the next line, in region lists and in
    column tables, and adds one ``TBS_VALUE`` span (mention through number) per candidate."""

    def __init__(self, span_group: str = TARGET_GROUP, rules: TbsValueRules | None = None) -> None:
        self.span_group = span_group
        self.rules: TbsValueRules | None = None
        register_extensions()
        if rules is not None:
            self.add(rules)

    def add(self, rules: TbsValueRules) -> None:
        """Take the rules (the ``tbs_value`` part of the pattern set); the pipeline builder calls this."""
        self.rules = rules
        self.mention = rules.mention.compile()
        self.mention_scan = Scanner(rules.mention.pattern)
        self.software = rules.not_a_value_mention.compile()
        self.region = rules.region.compile()
        self.value = rules.value.compile()
        self.value_scan = Scanner(rules.value.pattern)  # its group is digits, which have no case
        self.gap_stop = rules.gap_stop.compile()
        self.gap_reference = rules.gap_reference.compile()
        self.list_joint = re.compile(r"[ \t,;|/]{0,12}(?:" + rules.region.pattern + r")[ \t:=|\-]{0,12}", re.IGNORECASE)
        self.region_row = re.compile(
            r"^[ \t*•\-|]*(" + rules.region.pattern + r")[ \t]*[:=|\-–]?[ \t|]*" + rules.value.pattern, re.IGNORECASE
        )

    # -- reading -------------------------------------------------------------------------
    def _gap_ok(self, gap: str) -> tuple[bool, str | None]:
        """Whether text between a TBS mention and a number still ties the two together."""
        if len(gap) > self.rules.max_gap_chars or _SENTENCE_END.search(gap):
            return False, None
        bare = self.region.sub(" ", gap)
        if self.gap_stop.search(bare):
            ref = self.gap_reference.search(bare)
            return False, ref.group(0) if ref else None
        ref = self.gap_reference.search(bare)
        return True, ref.group(0) if ref else None

    def _inline(self, text: str, start: int, end: int, layout: str, values: _Values) -> list[TbsCandidate]:
        """Candidates in ``text[start:end]`` read left to right after a mention ending at ``start``.

        ``values`` holds every number of the text, found once per document: a report dense with
        TBS mentions must not be rescanned for each of them.
        """
        matches, starts = values
        found: list[TbsCandidate] = []
        tail = ""
        for k in range(bisect_left(starts, start), bisect_left(starts, end)):
            m = matches[k]
            if m.end(1) > end:
                break
            gap = text[start : m.start(1)]
            if found:
                # After the first value, keep reading only "L1-L2 1.18, L1-L4 1.22" style lists.
                tail = text[found[-1].value_end : m.start(1)]
                if not self.list_joint.fullmatch(tail):
                    break
            else:
                ok, ref = self._gap_ok(gap)
                if not ok:
                    if ref:
                        found.append(self._cand(m, 0, gap, layout, ref))
                    break
                if ref:
                    found.append(self._cand(m, 0, gap, layout, ref))
                    break
            found.append(self._cand(m, 0, gap if len(found) == 0 else tail, layout, None))
        return found

    def _cand(self, m: re.Match[str], offset: int, before: str, layout: str, ref: str | None) -> TbsCandidate:
        regions = self.region.findall(before)
        region = normalise_region(regions[-1]) if regions else None
        s, e = offset + m.start(1), offset + m.end(1)
        return TbsCandidate(_to_float(m.group(1)), s, e, region, layout, ref)

    def _after_value_region(self, text: str, cand: TbsCandidate) -> TbsCandidate:
        if cand.region:
            return cand
        m = re.match(r"\s*\(?\s*(" + self.rules.region.pattern + r")", text[cand.value_end : cand.value_end + 20], re.I)
        if m:
            return TbsCandidate(cand.value, cand.value_start, cand.value_end, normalise_region(m.group(1)),
                                cand.layout, cand.reference)
        return cand

    def _column_table(self, text: str, line_start: int, line_end: int, m_start: int, m_end: int) -> list[TbsCandidate]:
        if line_end - line_start > _MAX_TABLE_LINE:
            return []  # a paragraph, not a table header
        header = text[line_start:line_end]
        cells = [c for c in _CELL_SPLIT.split(header.strip()) if c]
        if len(cells) < 3:
            return []
        idx = next((i for i, c in enumerate(cells) if self.mention.fullmatch(c.strip())), None)
        if idx is None:
            return []
        out: list[TbsCandidate] = []
        pos = line_end + 1
        for _ in range(12):
            if pos >= len(text):
                break
            nl = text.find("\n", pos)
            row_end = len(text) if nl == -1 else nl
            row = text[pos:row_end]
            if not row.strip():
                break
            if re.fullmatch(r"[\s|:+=-]+", row):  # markdown rule line
                pos = row_end + 1
                continue
            # A cell is words joined by single spaces; two spaces, a tab or a pipe end it.
            parts = [(mm.start(), mm.group()) for mm in _CELL.finditer(row[:_MAX_TABLE_LINE])]
            if len(parts) == len(cells):
                cell_off, cell = parts[idx]
                vm = self.value.fullmatch(cell) or self.value.match(cell)
                if vm:
                    rm = self.region.match(parts[0][1])
                    region = normalise_region(rm.group(0)) if rm else None
                    s = pos + cell_off + vm.start(1)
                    out.append(TbsCandidate(_to_float(vm.group(1)), s, s + len(vm.group(1)), region, "column_table"))
            pos = row_end + 1
        return out

    def _region_list(self, text: str, pos: int) -> list[TbsCandidate]:
        out: list[TbsCandidate] = []
        for _ in range(8):
            if pos >= len(text):
                break
            nl = text.find("\n", pos)
            row_end = len(text) if nl == -1 else nl
            row = text[pos:row_end]
            m = self.region_row.match(row)
            if not m:
                break
            vs = pos + m.start(2)
            out.append(TbsCandidate(_to_float(m.group(2)), vs, pos + m.end(2), normalise_region(m.group(1)), "region_list"))
            pos = row_end + 1
        return out

    def find(self, text: str, folded: str | None = None) -> list[tuple[int, TbsCandidate]]:
        """Every TBS candidate in ``text`` as ``(mention_start, candidate)``, in text order.

        Args:
            text: The report.
            folded: ``fold_case(text)``, when the caller has it.
        """
        folded = fold_case(text) if folded is None else folded
        results: list[tuple[int, TbsCandidate]] = []
        seen: set[int] = set()
        found_values = list(self.value_scan.finditer(text, folded))
        values: _Values = (found_values, [m.start(1) for m in found_values])
        for mention in self.mention_scan.finditer(text, folded):
            ms, me = mention.start(), mention.end()
            if self.software.match(text[me : me + 40]):
                continue
            line_start, line_end = (text.rfind("\n", 0, ms) + 1), text.find("\n", me)
            line_end = len(text) if line_end == -1 else line_end
            # Only the text just after a mention can hold its value; long lines are cut so a
            # one-line 1 MB report stays linear.
            line_end = min(line_end, me + self.rules.max_gap_chars + _VALUE_LIST_CHARS)
            cands = self._column_table(text, line_start, line_end, ms, me)
            if not cands:
                rest = text[me:line_end]
                cands = self._inline(text, me, line_end, "inline", values)
                if not cands and len(rest) <= 60 and (_EMPTYISH.match(self.region.sub("", rest)) or _HEADERISH.match(rest)):
                    cands = self._region_list(text, line_end + 1)
                    if not cands and line_end < len(text):
                        nl = text.find("\n", line_end + 1)
                        cands = self._inline(text, me, len(text) if nl == -1 else nl, "next_line", values)
            for c in cands:
                if c.value_start in seen:
                    continue
                seen.add(c.value_start)
                results.append((ms if c.layout in ("inline", "next_line") else c.value_start, self._after_value_region(text, c)))
        results.sort(key=lambda r: r[1].value_start)
        return results

    def __call__(self, doc: Doc) -> Doc:
        group = list(doc.spans[self.span_group]) if self.span_group in doc.spans else []
        offsets = token_offsets(doc)
        text = offsets[0]
        for anchor, cand in self.find(text, offsets[4]):
            start = anchor
            if cand.layout in ("region_list", "column_table"):
                ls = text.rfind("\n", 0, cand.value_start) + 1
                start = ls + (len(text[ls:cand.value_start]) - len(text[ls:cand.value_start].lstrip()))
            span = char_span(doc, start, cand.value_end, TBS_VALUE_LABEL)
            if span is None or len(span) == 0:
                continue
            span._.tbs = cand
            group.append(span)
        doc.spans[self.span_group] = group
        return doc


@Language.factory(
    "tbs_value",
    default_config={"span_group": TARGET_GROUP},
    assigns=["doc.spans", f"span._.{TBS_EXT}"],
    requires=["token.is_sent_start"],
)
def make_tbs_value(nlp: Language, name: str, span_group: str) -> TbsValueFinder:
    """Build the TBS value finder; its rules come in through ``.add()``."""
    return TbsValueFinder(span_group)
