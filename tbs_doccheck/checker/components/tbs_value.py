"""The ``tbs_value`` component: ties each TBS number to its TBS mention and region, as target spans.

Where a number sits decides what it is: the column of a comparison table it is in (current or prior
study), the field of an HL7 OBX segment, a dictated correction after it, words that make it an
estimate. Those readings come from :mod:`tbs_doccheck.checker.components.structure`; every offset is
one into the report text as given.
"""


import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import replace

from spacy.language import Language
from spacy.tokens import Doc

from tbs_doccheck.checker.components import structure
from tbs_doccheck.checker.components.schema import TARGET_GROUP, TBS_EXT, TBS_VALUE_LABEL, register_extensions
from tbs_doccheck.checker.components.tbs_numbers import (
    _CELL_GAP,
    _CLAUSE_MARK,
    _EMPTYISH,
    _HEADER_REST,
    _HEADERISH,
    _JSON_EFFECTIVE,
    _JSON_EFFECTIVE_YEARS,
    _JSON_NAME_KEY,
    _JSON_OTHER_CODE,
    _JSON_VALUE,
    _JSON_VOID_STATUS,
    _RANGE_CELL,
    _TAIL_ASIDE,
    _VALUE_HEADER,
    _VALUE_LIST_CHARS,
    _VALUE_TYPES,
    GapReader,
    TbsCandidate,
    _quote,
    _to_float,
    _Values,
    normalise_region,
)
from tbs_doccheck.checker.patterns import TbsValueRules
from tbs_doccheck.checker.speedups.fast_regex import Scanner
from tbs_doccheck.checker.speedups.offsets import fold_case, token_offsets
from tbs_doccheck.checker.speedups.spans import char_span

# "TBS fell from 1.301 to 1.255": a change between an earlier and the current number.
_FROM_GAP = re.compile(r"\bfrom[ \t]*$", re.I)
_TO_TAIL = frozenset({"to", "->", "→", "-->", "to now", "-> now", "→ now"})
_CHANGE_WORDS = re.compile(
    r"\b(?:declin\w*|decreas\w*|increas\w*|drop\w*|fell|fall\w*|improv\w*|rose|ris\w*|chang\w*|went|moved|"
    r"worsen\w*|deteriorat\w*|down|up)\b", re.I)
# "…; 2023 – 1.290": the next entry of a dated series.
_DATED_JOINT = re.compile(
    r"[ \t]{0,3}[;,|/][ \t]{0,3}((?:\d{1,2}[/.-]){0,2}(?:19|20)\d\d)[ \t]{0,3}[:=\-–—]?[ \t]{0,3}(?:TBS[ "
    r"\t]{0,3}[:=]?[ \t]{0,3})?",
    re.I)
_EARLIER_OF_CHANGE = "the earlier value of a change ('from … to', '→')"
_ARROWS = frozenset({"->", "→", "=>", "-->", "⇒", "->>"})

# An OBX identifier naming an earlier study's observation ("TBS^TBS L1-L4 (prior)^L").
_PRIOR_IDENT = re.compile(r"\b(?:prior|previous|baseline|old|last|earlier|historical)\b", re.IGNORECASE)
# A sentence hard-wrapped between the TBS word and its value ("Trabecular bone score of L1 to\nL4 is 1.227").
_WRAPS_ON = re.compile(r"(?<![ \t])[ \t]*+(?:(?:of|for|at|in|on|the|to|from|through|and|L[1-5]|is|was|measured|"
                       r"calculated|computed|derived|score)\b[ \t]*+){1,6}+", re.IGNORECASE)


class TbsValueFinder(GapReader):
    """Finds TBS values: inline (``TBS L1-L4: 1.254``), on the next line, in region lists, in the
    rows and columns of tables (tied to their study column) and in HL7 OBX segments, and adds one
    ``TBS_VALUE`` span (mention through number) per candidate."""

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
        self.value_scan = Scanner(rules.value.pattern)
        self.spelled_scan = Scanner(rules.spelled_value.pattern)
        self.reference_before = rules.reference_before.compile()
        self.invalid_after = rules.invalid_after.compile()
        self.gap_stop = rules.gap_stop.compile()
        self.gap_reference = rules.gap_reference.compile()
        self.hypothetical = rules.hypothetical.compile()
        self.hypothetical_after = rules.hypothetical_after.compile()
        self.hypothetical_before = rules.hypothetical_before.compile()
        self.correction = rules.correction.compile()
        self.retraction = rules.retraction.compile()
        self.current_switch = rules.current_switch.compile()
        self.lead = rules.lead.compile()
        self.list_joint = re.compile(r"[ \t,;|/]{0,12}(?:" + rules.region.pattern + r")[ \t:=|\-]{0,12}", re.IGNORECASE)
        self.region_row = re.compile(
            r"^[ \t*•\-|]*(" + rules.region.pattern + r")[ \t]*[:=|\-–]?[ \t|]*" + rules.value.pattern, re.IGNORECASE
        )

    # -- reading -------------------------------------------------------------------------
    def _inline(self, text: str, start: int, end: int, layout: str, values: _Values) -> list[TbsCandidate]:
        """Candidates in ``text[start:end]`` read left to right after a mention ending at ``start``.

        ``values`` holds every number of the text, found once per document: a report dense with
        TBS mentions must not be rescanned for each of them. After the first number, the reading
        goes on through region lists ("L1-L2 1.18, L1-L4 1.22"), through a dictated correction
        ("1.198 scratch that 1.298": the first is dropped) and through a switch to the current
        value ("previously 1.301 in 2023, now 1.255": the first is an earlier study's).
        """
        matches, starts = values
        found: list[TbsCandidate] = []
        for k in range(bisect_left(starts, start), bisect_left(starts, end)):
            m = matches[k]
            if m.end(1) > end:
                break
            gap = text[start : m.start(1)]
            if found:
                last = found[-1]
                tail = text[last.value_end : m.start(1)]
                if last.excluded == _EARLIER_OF_CHANGE:
                    if " ".join(tail.lower().split()) in _TO_TAIL:
                        to = last.value_end + len(tail) - len(tail.lstrip())
                        found.append(replace(self._cand(text, m, "", layout, None), region=last.region,
                                             current_from=to))
                    break
                if " ".join(_TAIL_ASIDE.sub(" ", tail).split()) in _ARROWS and not last.excluded:
                    # "1.31 -> 1.262": a change written with an arrow; the number after it is the current one
                    found[-1] = replace(last, excluded=_EARLIER_OF_CHANGE)
                    arrow = last.value_end + len(tail) - len(tail.lstrip(" \t(),0123456789"))
                    found.append(replace(self._cand(text, m, "", layout, None), region=last.region, current_from=arrow))
                    break
                dated = _DATED_JOINT.fullmatch(tail)
                if dated and not last.excluded:
                    # "2021 – 1.311; 2023 – 1.290; 2025 – 1.262": each number is judged by its own date
                    found.append(replace(self._cand(text, m, "", layout, None),
                                         current_from=last.value_end + dated.start(1), series=True))
                    continue
                if self.list_joint.fullmatch(tail):
                    found.append(self._cand(text, m, tail, layout, None))
                    continue
                said = self.correction.match(tail)
                if said and len(tail) <= 40:
                    new = self._cand(text, m, "", layout, None)
                    found[-1] = replace(last, excluded=f"corrected in the dictation to "
                                                       f"{text[new.value_start:new.value_end]}")
                    found.append(replace(new, region=new.region or last.region))
                    continue
                switch = self.current_switch.search(tail)
                if switch and len(tail) <= 60 and not last.excluded:
                    s = last.value_end + switch.start()
                    found[-1] = replace(last, excluded=f"an earlier value; the current one follows "
                                                       f"('{_quote(switch.group(0))}')")
                    new = self._cand(text, m, "", layout, None)
                    found.append(replace(new, region=new.region or last.region, current_from=s))
                break
            if _FROM_GAP.search(gap):
                # "TBS fell from 1.301 to 1.255": the number after "from" is the earlier one
                ok, ref = self._gap_ok(_CHANGE_WORDS.sub(" ", gap[: _FROM_GAP.search(gap).start()]))
                if ok and not ref:
                    found.append(replace(self._cand(text, m, gap, layout, None), excluded=_EARLIER_OF_CHANGE))
                    continue
                break
            ok, ref = self._gap_ok(gap)
            if not ok:
                if ref:
                    found.append(self._cand(text, m, gap, layout, ref))
                break
            cand = self._cand(text, m, gap, layout, ref)
            if ref:
                found.append(cand)
                break
            hedge = self._hedged(text, gap, m.end(1))
            if hedge:
                found.append(replace(cand, excluded=f"an estimate or expectation, not a measured value ('{hedge}')"))
                break
            void = self.invalid_after.match(text, m.end(1), min(len(text), m.end(1) + 40))
            if void:
                found.append(replace(cand, excluded=f"declared invalid ('{_quote(void.group(0))}')"))
                break
            found.append(cand)
        if found and not found[-1].excluded:
            last = found[-1]
            k = bisect_left(starts, last.value_end)
            if k < len(matches):
                # A correction wrapped onto the next line ("1.198 scratch\nthat 1.298") goes past the line's end.
                m = matches[k]
                tail = text[last.value_end : m.start(1)]
                if "\n" in tail and len(tail) <= 40 and self.correction.match(tail):
                    new = self._cand(text, m, "", layout, None)
                    found[-1] = replace(last, excluded=f"corrected in the dictation to "
                                                       f"{text[new.value_start:new.value_end]}")
                    found.append(replace(new, region=new.region or last.region))
                    return found
            if self.retraction.match(text, last.value_end, min(len(text), last.value_end + 40)):
                found[-1] = replace(last,
                                    excluded="taken back in the dictation with no value after it ('scratch that')")
        return found

    def _cand(self, text: str, m: re.Match[str], before: str, layout: str, ref: str | None) -> TbsCandidate:
        regions = self.region.findall(before)
        region = normalise_region(regions[-1]) if regions else None
        s, e = m.start(1), m.end(1)
        return TbsCandidate(_to_float(text[s:e]), s, e, region, layout, ref)

    def _number_at(self, text: str, cell: structure.Cell) -> re.Match[str] | None:
        """The TBS-shaped number a table cell opens with (not a range or comparison), or None."""
        if not cell.text or _RANGE_CELL.search(cell.text):
            return None
        m = self.value.match(text, cell.start, cell.end)
        return m if m and m.start(1) == cell.start else None

    def _after_value_region(self, text: str, cand: TbsCandidate) -> TbsCandidate:
        if cand.region:
            return cand
        m = re.match(r"\s*\(?\s*(" + self.rules.region.pattern + r")", text[cand.value_end : cand.value_end + 20], re.I)
        if m:
            return replace(cand, region=normalise_region(m.group(1)))
        return cand

    # -- tables --------------------------------------------------------------------------
    def _table(self, text: str, ls: int, le: int, ms: int, me: int,
               exam: Callable[[], list[structure.StudyDate]]) -> list[TbsCandidate] | None:
        """Candidates when the mention labels a row or heads a column of a table; None when it does not."""
        if not _CELL_GAP.search(text, ls, le):
            return None  # one run of words: prose, not a table line
        cells = structure.line_cells(text, ls, le)
        if len(cells) < 2:
            return None
        i = next((k for k, c in enumerate(cells) if c.start <= ms < c.end), None)
        if i is None:
            return None
        first = next((k for k, c in enumerate(cells) if c.text), None)
        cell = cells[i]
        if (self._bare_label(text, cell, ms, me)
                and not any(self.value.search(text, c.start, c.end) for c in cells)):
            out = self._table_column(text, ls, le, cells, i, exam)
            if out is not None:
                return out
        if i == first and not self.value.search(text, cell.start, cell.end):
            return self._table_row(text, ls, cells, i, ms, me, exam)
        return None

    @staticmethod
    def _bare_label(text: str, cell: structure.Cell, ms: int, me: int) -> bool:
        """Whether a cell only names TBS, maybe with a region and a study ("TBS", "TBS (L1-L4)", "Current TBS")."""
        if not _HEADER_REST.fullmatch(text, me, cell.end):
            return False
        before = text[cell.start:ms].strip()
        return not before or structure.time_role(before) in (structure.CURRENT, structure.PRIOR) and len(before) <= 25

    def _table_row(self, text: str, ls: int, cells: list[structure.Cell], i: int, ms: int, me: int,
                   exam: Callable[[], list[structure.StudyDate]]) -> list[TbsCandidate] | None:
        """A row labelled TBS ("TBS L1-L4 | 1.224 | 1.205 | 1.188"): each number belongs to its column."""
        label = cells[i]
        vals = [(c, m) for c in cells[i + 1 :] if (m := self._number_at(text, c))]
        columns = structure.header_columns(text, ls, cells)
        structure.resolve_columns(columns, exam())
        # Only a header that dates the columns the numbers sit in, or calls them current/prior, decides
        # their study; a "Value  Ref Range" header, or none, leaves a label and its value to the inline reading.
        placed = [(c, m, structure.column_of(columns, c)) for c, m in vals]
        informative = any(col is not None and (col.role in (structure.CURRENT, structure.PRIOR) or col.date is not None)
                          for _, _, col in placed)
        if not informative and len(vals) <= 1:
            return None
        rm = self.region.search(text, label.start, label.end)
        region = normalise_region(rm.group(0)) if rm else None
        own = structure.word_role(text[label.start:ms] + " " + text[me:label.end])
        has_current = any(c.role == structure.CURRENT for c in columns)
        has_prior = any(c.role == structure.PRIOR for c in columns)
        out: list[TbsCandidate] = []
        plain_cells = []
        for _, m, col in placed:
            cand = TbsCandidate(_to_float(text[m.start(1):m.end(1)]), m.start(1), m.end(1), region, "table_row")
            if col is None:
                plain_cells.append(cand)  # under no header cell: the header says nothing about it
                continue
            role = col.role
            if own in (structure.PRIOR, structure.REFERENCE):
                out.append(replace(cand, excluded=f"a {'prior study' if own == structure.PRIOR else 'reference'} row "
                                                  f"of the table"))
            elif role == structure.PRIOR:
                out.append(replace(cand, excluded=f"in the prior-study column ('{_quote(col.why)}')"))
            elif role == structure.CURRENT:
                out.append(cand)
            elif role is not None:
                continue  # a change, a reference range or another measure's column
            elif self.region.fullmatch(col.text.strip()):
                out.append(replace(cand, region=normalise_region(col.text)))  # a region's column ("L1-L4  L2-L4")
            elif has_current:
                out.append(replace(cand, excluded="not in the current-study column of the table"))
            else:
                plain_cells.append(cand)
        if plain_cells:
            if has_prior or len(plain_cells) == 1:
                out.append(plain_cells[0])
            else:
                why = "a table row holds several TBS numbers and no header tells which column is the current study"
                out.append(replace(plain_cells[0], review=why))
                out += [replace(c, excluded="another column of a table whose current column cannot be told")
                        for c in plain_cells[1:]]
        return out

    def _table_column(self, text: str, ls: int, le: int, cells: list[structure.Cell], i: int,
                      exam: Callable[[], list[structure.StudyDate]]) -> list[TbsCandidate] | None:
        """A column headed TBS ("Region  BMD  T-score  TBS"): the number under it in each row below.

        A header line that opens with TBS ("TBS  value  T-score  Z-score") heads a TBS table: its
        plain value columns hold the TBS. The row label gives the region, and the row label (a date,
        "current", "prior") or a date line above the header gives the study.
        """
        if i == 0 or not cells[0].text and i == 1:
            # "TBS  value  T-score": the value columns; "TBS  Current  Prior": the study columns.
            targets = [c for c in cells[i + 1 :] if _VALUE_HEADER.match(c.text) or structure.time_role(c.text) in (
                structure.CURRENT, structure.PRIOR) or structure.parse_date(c.text)]
        else:
            targets = [cells[i]]
        if not targets:
            return None
        target_cols = [structure.Column(c.col, c.text) for c in targets]
        structure.resolve_columns(target_cols, exam())  # "Current TBS", "Prior", "2021-03-02"
        line_cols = [structure.Column(c.col, c.text) for c in cells]
        target_at = {t.col: t for t in target_cols}
        above = structure.header_columns(text, ls, cells)
        structure.resolve_columns(above, exam())
        rows: list[tuple[structure.Cell, structure.Cell, re.Match[str]]] = []
        labels: list[structure.Column] = []
        pos = le + 1
        for _ in range(16):
            if pos >= len(text):
                break
            rs, re_ = structure.line_bounds(text, pos)
            pos = re_ + 1
            if not text[rs:re_].strip():
                if structure.is_padding(text[rs:re_]):
                    continue
                break
            if structure.is_rule_line(text, rs, re_):
                continue
            row = structure.line_cells(text, rs, re_)
            if len(row) < 2:
                break
            label = row[0]
            for c in row[1:]:
                col = structure.column_of(line_cols, c)  # under the header cell it is nearest, TBS or not
                m = self._number_at(text, c) if col is not None and col.col in target_at else None
                if m:
                    rows.append((label, c, m))
            labels.append(structure.Column(label.col, label.text))
        if not labels:
            return None
        for lab in labels:
            lab.role = structure.time_role(lab.text)
            lab.date = structure.parse_date(lab.text)
        structure.resolve_dated(labels, exam())
        role_of = {lab.text: lab for lab in labels}
        out: list[TbsCandidate] = []
        plain_cells: list[TbsCandidate] = []
        any_current = False
        for label, c, m in rows:
            rm = self.region.match(label.text)
            region = normalise_region(rm.group(0)) if rm else None
            cand = TbsCandidate(_to_float(text[m.start(1):m.end(1)]), m.start(1), m.end(1), region, "column_table")
            lab = role_of.get(label.text)
            own = target_at.get(col_at.col) if (col_at := structure.column_of(line_cols, c)) else None
            col = (own if own is not None and own.role in (structure.CURRENT, structure.PRIOR)
                   else structure.column_of(above, c))
            role, why = (lab.role, lab.text) if lab and lab.role else ((col.role, col.why) if col else (None, ""))
            if role == structure.PRIOR:
                out.append(replace(cand, excluded=f"a prior study's entry in the table ('{_quote(why)}')"))
            elif role == structure.CURRENT:
                any_current = True
                out.append(cand)
            elif role is None:
                plain_cells.append(cand)
        if any_current:
            out += [replace(c, excluded="not the current study's entry in the table") for c in plain_cells]
        else:
            out += plain_cells
        return out

    # -- HL7 -----------------------------------------------------------------------------
    def _obx(self, text: str, obx: structure.ObxFields, ms: int, me: int, line_end: int,
             values: _Values) -> list[TbsCandidate]:
        """A TBS in an OBX segment: the observation's value field (OBX-5) when the identifier (OBX-3) names
        TBS, read in the field only; a mention inside a text value is read up to the end of its field."""
        if obx.ident[0] <= ms < obx.ident[1]:
            if obx.value_type not in _VALUE_TYPES:
                return []
            vs, ve = obx.value
            m = self.value.search(text, vs, ve)
            if m is None or _RANGE_CELL.search(text, vs, m.start(1)):
                return []  # no result in OBX-5 (the reference range in OBX-7 is not one)
            rm = self.region.search(text, obx.ident[0], obx.ident[1])
            cand = TbsCandidate(_to_float(text[m.start(1):m.end(1)]), m.start(1), m.end(1),
                                normalise_region(rm.group(0)) if rm else None, "obx")
            if obx.no_result:
                cand = replace(cand, excluded=f"the OBX result status is '{obx.status}' (no valid result)")
            elif _PRIOR_IDENT.search(text, obx.ident[0], obx.ident[1]):
                cand = replace(cand, excluded="a prior study's value (the OBX identifier says so)")
            return [cand]
        bar = text.find("|", me, line_end)
        return self._inline(text, me, line_end if bar == -1 else bar, "inline", values)

    # -- FHIR / JSON ---------------------------------------------------------------------
    def _fhir(self, text: str, line_start: int, ms: int, me: int) -> list[TbsCandidate] | None:
        """A mention naming a JSON observation ("code": {"text": "Trabecular bone score"}): its value is the
        observation's ``valueQuantity.value`` (``valueDecimal``, ``valueString``), never a reference range.

        None when the mention is not such a name, or the name string itself holds a number (narrative text).
        """
        if not _JSON_NAME_KEY.search(text, max(0, ms - 100), ms):
            return None
        close = text.find('"', me, me + 120)
        if close == -1 or self.value.search(text, ms, close):
            return None
        m = _JSON_VALUE.search(text, close, min(len(text), close + 600))
        if m is None or _JSON_OTHER_CODE.search(text, close, m.start()):
            return []  # the observation has no value (dataAbsentReason…): nothing to read across the JSON
        rm = self.region.search(text, ms, close)
        cand = TbsCandidate(_to_float(text[m.start(1):m.end(1)]), m.start(1), m.end(1),
                            normalise_region(rm.group(0)) if rm else None, "fhir")
        obj = text.rfind('"resourceType"', max(0, ms - 2000), ms)  # the resource holding the observation
        obj = obj if obj != -1 else max(text.rfind("{", max(0, ms - 600), ms), 0)
        end = text.find('"resourceType"', m.end(), m.end() + 2000)
        end = min(len(text), m.end() + 600) if end == -1 else end
        if _JSON_VOID_STATUS.search(text, obj, end):
            return [replace(cand, excluded="the observation's status says it has no valid result")]
        when = _JSON_EFFECTIVE.search(text, obj, end)
        if when:
            latest = max(int(y) for y in _JSON_EFFECTIVE_YEARS.findall(text))
            if int(when.group(1)) < latest:
                cand = replace(cand, excluded=f"an earlier observation (effective {when.group(1)})")
        return [cand]

    # -- the document ----------------------------------------------------------------------
    def _lead(self, text: str, line_start: int, ms: int) -> int:
        """Where a region or year written just before the mention starts ("2023 L1-L4 TBS"); ``ms`` when none."""
        lo = max(line_start, ms - 30)
        clause = lo
        for m in _CLAUSE_MARK.finditer(text, lo, ms):
            clause = m.end()
        if clause >= ms:
            return ms
        m = self.lead.search(text, clause, ms)
        if m is None or not text[m.start():ms].strip() or not re.search(r"\d", text[m.start():ms]):
            return ms
        s = m.start()
        while s < ms and text[s] in " \t(),":
            s += 1
        return s

    def find(self, text: str, folded: str | None = None) -> list[tuple[int, TbsCandidate]]:
        """Every TBS candidate in ``text`` as ``(anchor, candidate)``, in text order.

        The anchor is where the candidate's evidence starts: its mention (or the region or year
        written just before it), or the table row or OBX segment holding it.

        Args:
            text: The report.
            folded: ``fold_case(text)``, when the caller has it.
        """
        folded = fold_case(text) if folded is None else folded
        results: list[tuple[int, TbsCandidate]] = []
        seen: set[int] = set()
        found_values = list(self.value_scan.finditer(text, folded))
        if " point" in folded:
            found_values = sorted(found_values + list(self.spelled_scan.finditer(text, folded)),
                                  key=lambda m: m.start(1))
        values: _Values = (found_values, [m.start(1) for m in found_values])
        dates: list[list[structure.StudyDate]] = []

        def exam() -> list[structure.StudyDate]:
            if not dates:
                dates.append(structure.exam_dates(text))
            return dates[0]

        for mention in self.mention_scan.finditer(text, folded):
            ms, me = mention.start(), mention.end()
            if self.software.match(text[me : me + 40]):
                continue
            line_start, line_end = (text.rfind("\n", 0, ms) + 1), text.find("\n", me)
            line_end = len(text) if line_end == -1 else line_end
            anchor = ms
            obx = structure.obx_fields(text, line_start, line_end) if text.startswith("OBX|", line_start) else None
            fhir = self._fhir(text, line_start, ms, me) if '"' in text[max(line_start, ms - 100):ms] else None
            if fhir is not None:
                cands = fhir
            elif obx is not None:
                cands = self._obx(text, obx, ms, me, min(line_end, me + 2000), values)
                anchor = line_start if cands and cands[0].layout == "obx" else ms
            else:
                cands = self._table(text, line_start, line_end, ms, me, exam) if line_end - line_start <= 400 else None
            if cands is None:
                # Only the text just after a mention can hold its value; long lines are cut so a
                # one-line 1 MB report stays linear.
                line_end = min(line_end, me + self.rules.max_gap_chars + _VALUE_LIST_CHARS)
                rest = text[me:line_end]
                cands = self._inline(text, me, line_end, "inline", values)
                if not cands and len(rest) <= 60 and (_EMPTYISH.match(self.region.sub("", rest))
                                                      or _HEADERISH.match(rest) or _WRAPS_ON.fullmatch(rest)):
                    cands = self._region_list(text, line_end + 1)
                    if not cands and line_end < len(text):
                        nl = text.find("\n", line_end + 1)
                        nl = len(text) if nl == -1 else nl
                        # A next line whose own TBS word comes before its number ("TBS_L1_L4.prior=1.301")
                        # holds that mention's value, not this one's.
                        own = next(self.mention_scan.finditer(text[line_end + 1 : nl]), None)
                        number = self.value.search(text, line_end + 1, nl)
                        if own is None or number is None or line_end + 1 + own.start() > number.start():
                            cands = self._inline(text, me, nl, "next_line", values)
                if cands and cands[0].layout in ("inline", "next_line"):
                    hedge = self._hedged_before(text, line_start, ms)
                    ref_word = self.reference_before.search(text, max(line_start, ms - 30), ms)
                    if ref_word and not hedge:
                        cands = [c if c.excluded else replace(c, excluded=f"a reference value "
                                                                          f"('{_quote(ref_word.group(0))}')")
                                 for c in cands]
                    if hedge:
                        cands = [c if c.excluded else replace(c, excluded=f"an estimate or expectation, not a measured "
                                                                          f"value ('{hedge}')")
                                 for c in cands]
                    anchor = self._lead(text, line_start, ms)
                    if anchor < ms and cands[0].region is None:
                        rm = self.region.search(text, anchor, ms)
                        if rm:
                            cands = [replace(c, region=normalise_region(rm.group(0))) if c.region is None else c
                                     for c in cands]
            for c in cands:
                if c.value_start in seen:
                    continue
                seen.add(c.value_start)
                start = anchor if c.layout in ("inline", "next_line", "obx", "fhir") else c.value_start
                results.append((start, self._after_value_region(text, c)))
        results.sort(key=lambda r: r[1].value_start)
        return results

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
            out.append(TbsCandidate(_to_float(text[vs:pos + m.end(2)]), vs, pos + m.end(2),
                                    normalise_region(m.group(1)), "region_list"))
            pos = row_end + 1
        return out

    def __call__(self, doc: Doc) -> Doc:
        group = list(doc.spans[self.span_group]) if self.span_group in doc.spans else []
        offsets = token_offsets(doc)
        text = offsets[0]
        for anchor, cand in self.find(text, offsets[4]):
            start = anchor
            if cand.layout in ("region_list", "column_table", "table_row"):
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
