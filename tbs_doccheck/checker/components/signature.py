"""The ``tbs_signature`` component: signing statements, signers, credentials and report status, as spans.

A signing statement ("electronically signed", "/s/", "attested by", …) names its signer in one of a few
places, read in this order:

* right after the signing words, on the same line ("Electronically signed by Jane Roe, MD 03/14/2025");
  a name after a date with no "by" must carry a credential or "Dr." to count ("… 10:41 Interpreting
  Radiologist" is a role, not a signer);
* when the statement ends its line with "by"/":" (the signer is on the next line), that next line;
* before the signing words on the same line ("Attending: Jane Roe, MD — electronically signed …");
* the signature block above it: a name/credential line up to three lines up, with only short role or
  department lines between and no blank line ("Jane Roe, MD / Radiology / Electronically signed <date>");
* the next line, when it holds a name with a credential; a signer read there is flagged for review,
  since the layout leaves it open whether that line answers the statement.

The signer is then judged on the closed list of qualified credentials and on the role words around
them (the rest of the signer's line, the block's role lines): technologist, trainee, proxy signatures
("signed in his absence by"), non-physician "physicians" ("chiropractic physician") and a bare "Dr."
with nothing else to tell the qualification.

Report-status markers are status statements, not any occurrence of the words: "preliminary",
"draft", "not reviewed/approved" count on a status line or in a sentence about the report, its
signature or its signer, and never after a condition ("If not approved, …").
"""


import re
from bisect import bisect_left
from dataclasses import replace as _replace

from spacy.language import Language
from spacy.tokens import Doc, Span

from tbs_doccheck.checker.components.schema import (
    SIGNATURE_EXT,
    SIGNATURE_GROUP,
    SIGNATURE_LABEL,
    STATUS_EXT,
    STATUS_FINAL_LABEL,
    STATUS_GROUP,
    STATUS_NOT_FINAL_LABEL,
    register_extensions,
)
from tbs_doccheck.checker.components.signer import (
    _BLANK,
    _BLANK_FIELD,
    _BLOCK_LINES,
    _BY_LEAD,
    _DATE_LEAD,
    _ENDS_WITH_BY,
    _FILLER,
    _HAS_WORD,
    _HISTORY_LINE,
    _HL7_SEGMENT,
    _LABEL,
    _LOG_LINE,
    _NEGATED_AFTER,
    _OTHER_DOCUMENT,
    _OTHER_PERSON_LABEL,
    _SENTENCE_END,
    _SHORT_LINE_WORDS,
    _SIGNER_LABEL_WORDS,
    _SIGNER_WINDOW,
    _STATUS_CHANGE,
    PersonReader,
    SignatureFinding,
    _Person,
)
from tbs_doccheck.checker.patterns import SignatureRules
from tbs_doccheck.checker.speedups.fast_regex import Scanner
from tbs_doccheck.checker.speedups.offsets import fold_case, token_offsets
from tbs_doccheck.checker.speedups.spans import char_span


class SignatureFinder(PersonReader):
    """Reads signing statements and report-status markers into span groups."""

    def __init__(self, span_group: str = SIGNATURE_GROUP, status_group: str = STATUS_GROUP,
                 rules: SignatureRules | None = None) -> None:
        self.span_group = span_group
        self.status_group = status_group
        self.rules: SignatureRules | None = None
        register_extensions()
        if rules is not None:
            self.add(rules)

    def add(self, rules: SignatureRules) -> None:
        """Take the rules (the ``signature`` part of the pattern set); the pipeline builder calls this."""
        self.rules = rules
        self.attest = [(r.id, Scanner(r.pattern)) for r in rules.attestations]
        self.negation = rules.negations.compile()
        self.proxy = rules.proxy_markers.compile()
        self.not_final = [(r.id, Scanner(r.pattern), r.id in rules.status_contextual) for r in rules.status_not_final]
        self.status_subject = rules.status_subject.compile()
        self.status_conditional = rules.status_conditional.compile()
        self.final = Scanner(rules.status_final.pattern, re.IGNORECASE | re.MULTILINE)
        self.attending = rules.attending_markers.compile()
        self.trainee = rules.trainee_markers.compile()
        norm = self._norm
        self.bags = {
            "trainee": {norm(c) for c in rules.credentials_trainee_excluded},
            "staff": {norm(c) for c in rules.credentials_staff},
            "qualified": {norm(c) for c in rules.credentials_qualified},
            "unqualified": {norm(c) for c in rules.credentials_unqualified},
            "other": {norm(c) for c in rules.credentials_other},
        }
        self.suffixes = {norm(c) for c in rules.credential_suffixes}
        self.roles_qualified = self._words_rx(rules.roles_qualified)
        self.roles_unqualified = self._words_rx(rules.roles_unqualified)
        self.role_disqualified = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in sorted(rules.role_disqualifiers, key=len, reverse=True))
            + r")\s+$",
            re.IGNORECASE,
        )
        self.not_name = {w.lower() for r in (*rules.not_name_words, *rules.roles_qualified, *rules.roles_unqualified,
                                             *rules.role_labels) for w in r.split()}
        self.particles = {p.lower() for p in rules.name_particles}
        self.role_vocab = {w.lower() for r in (*rules.roles_qualified, *rules.roles_unqualified, *rules.role_labels)
                           for w in r.split()}
        vocab = "|".join(re.escape(w) for w in sorted(self.role_vocab, key=len, reverse=True))
        # "the attending radiologist, " ahead of the name: role words, not the signer.
        self.role_lead = re.compile(rf"\A(?:(?:the|our|your)\s+)?(?:(?:{vocab})s?\b[ \t]{{0,3}}){{1,4}}[ "
                                    rf"\t,:\-–—]{{0,4}}",
                                    re.IGNORECASE)

    # -- roles and the signer's kind -------------------------------------------------------
    def _roles(self, role_text: str) -> tuple[bool, bool, bool]:
        """(qualified role, unqualified role, qualified role made another profession) in ``role_text``."""
        qualified = disqualified = False
        spans = []
        for m in self.roles_qualified.finditer(role_text):
            spans.append((m.start(), m.end()))
            if self.role_disqualified.search(role_text[max(0, m.start() - 30) : m.start()]):
                disqualified = True
            else:
                qualified = True
        # "Nurse Practitioner" is not a nurse, "Physician Assistant" not an assistant.
        rest = role_text
        for s, e in reversed(spans):
            rest = rest[:s] + " " * (e - s) + rest[e:]
        unqualified = bool(self.roles_unqualified.search(rest))
        return qualified, unqualified, disqualified

    def _classify(self, person: _Person | None, own: str, extra: str, proxy: bool) -> tuple[str, str | None]:
        """The signer's kind and, when qualification cannot be told, why.

        ``own`` is the role text on the signer's own lines (label, rest of the line, the block's role lines);
        ``extra`` a short role line under the statement, which only speaks for a signer without a credential.
        """
        if person is None or (person.name is None and person.credential is None):
            return ("proxy" if proxy else "unknown"), None
        kinds = person.kinds
        if "trainee" in kinds or self.trainee.search(own) or self.trainee.search(extra):
            return "trainee", None
        q_role, u_role, d_role = self._roles(own)
        if u_role:
            return "staff", None
        # A qualified credential wins over a staff one listed beside it ("Jane Roe, MSN, RN, FNP-BC").
        if "qualified" in kinds:
            return "qualified", None
        if "staff" in kinds:
            return "staff", None
        if extra:
            q2, u2, d2 = self._roles(extra)
            q_role, u_role, d_role = q_role or q2, u2, d_role or d2
            if u_role:
                return "staff", None
        if "unqualified" in kinds or d_role:
            return "unqualified", None
        if q_role:
            return "qualified", None
        if "other" in kinds:
            return "unqualified", None
        if person.had_dr:
            who = person.name or "the signer"
            return "bare_dr", (f"signer 'Dr. {who}' has no credential or role: whether a physician, NP or PA signed "
                               "cannot be told")
        return "unknown", None

    def _credential_nearby(self, text: str, line_start: int, line_end: int, person: _Person) -> _Person:
        """The signer's credentials from the signature block around the statement, when the statement has none.

        A block often names its signer twice: "Jane Roe MBChB FRCP / Consultant ..." above, then
        "Electronically signed by Dr Jane Roe"; or the credential sits alone on the next line
        ("Digitally signed by Dr. Jane Roe" / "MD (Radiology)").
        """
        person_line_end = self._line_bounds(text, min(person.start, len(text) - 1))[1] if text else 0
        for after_line in dict.fromkeys((person_line_end, line_end)):  # under the name line, under the statement
            nxt_start = after_line + 1
            if nxt_start >= len(text):
                continue
            nxt_end = self._line_bounds(text, nxt_start)[1]
            alone = self._read_person(text, nxt_start, nxt_end)
            if alone is not None and alone.name is None and alone.credential:
                return _replace(person, credential=alone.credential, kinds=alone.kinds)
        surname = person.name.split()[-1].lower() if person.name else ""
        if len(surname) < 3:
            return person
        pos = line_start
        for _ in range(_BLOCK_LINES + 2):  # the block above, a blank line between included
            if pos <= 0:
                break
            ls, le = self._line_bounds(text, pos - 1)
            pos = ls
            line = text[ls:le]
            at = line.lower().find(surname)
            if at == -1:
                continue
            first = line.lower().rfind(" ", 0, max(0, at - 1))
            other = self._read_person(text, ls + (first + 1 if first != -1 else 0), le)
            if other is not None and other.credential and other.name and surname in other.name.lower():
                return _replace(person, credential=other.credential, kinds=other.kinds)
        return person

    # -- where the signer is --------------------------------------------------------------
    @staticmethod
    def _line_bounds(text: str, pos: int) -> tuple[int, int]:
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        return start, (len(text) if end == -1 else end)

    def _forward(self, text: str, m_end: int, line_end: int, by: bool) -> tuple[_Person | None, bool, bool, int, str]:
        """The signer after the signing words: (person, dangling, need a credential, end of a skipped date, role words
        standing before the name: "signed by the attending radiologist, Dr. Jane Roe"). ``by``: the signing words
        themselves end in "by" or ":"."""
        limit = min(line_end, m_end + _SIGNER_WINDOW)
        seg = text[m_end:limit]
        lead = _BY_LEAD.match(seg)
        j = lead.end() if lead else 0
        introduced = by or bool(lead and (lead.group(1) or ":" in lead.group(0)))
        date = _DATE_LEAD.match(seg[j:])
        dated = bool(date and date.end())
        if dated and date is not None:
            j += date.end()
            lead = _BY_LEAD.match(seg[j:])
            if lead and lead.end():
                j += lead.end()
                introduced = introduced or bool(lead.group(1))
        date_end = m_end + j
        role = self.role_lead.match(seg[j:])
        lead_role = role.group(0) if role and role.end() < len(seg) - j else ""
        j += len(lead_role)
        remainder = seg[j:].strip(" \t\r:-–—|*.,")
        dangling = not remainder and not dated
        person = self._read_person(text, m_end + j, limit) if remainder else None
        # After a date with no "by", words are a signer only with a credential or "Dr." ("… 10:41 Interpreting
        # Radiologist" is a role line); with no "by" or ":" at all, a name without them must at least be
        # capitalised ("e-signature applied 03/02/2025" names no one).
        need = dated and not (lead and lead.group(1)) and not by
        if (person is not None and not introduced and not person.credential and person.name
                and not person.name[:1].isupper()):
            person = None
        return person, dangling, need, date_end, lead_role

    def _role_words(self, label: str) -> bool:
        return bool({w.lower() for w in re.findall(r"[^\W\d_]+", label)} & self.role_vocab)

    def _signer_label(self, label: str) -> bool:
        """Whether a line's label introduces the report's signer.

        "Interpreting physician:", "Read by:", "Technologist:" do; a section ("Recommendations:") or another
        person ("Referring physician:", "cc:") does not.
        """
        if _OTHER_PERSON_LABEL.search(label):
            return False
        words = {w.lower() for w in re.findall(r"[^\W\d_]+", label)}
        return bool(words & self.role_vocab or words & _SIGNER_LABEL_WORDS)

    def _other_line(self, text: str, start: int, end: int, cased: bool = True) -> tuple[_Person | None, str]:
        """A signer on another line of the block: (person, label); ``cased``: the name must be capitalised."""
        line = text[start:end]
        label = _LABEL.match(line)
        label_text = (label.group(1) or "") if label else ""
        if label_text and not self._signer_label(label_text):
            return None, label_text
        person = self._read_person(text, start + (label.end() if label else 0), end)
        if person is not None and len(person.rest.split()) > _SHORT_LINE_WORDS:
            person = None  # a sentence that happens to hold a name, not a signature line
        if cased and person is not None and person.name and not person.name[:1].isupper() and not person.credential:
            person = None
        return person, label_text

    def _locate(self, text: str, m_start: int, m_end: int, attest_starts: list[int]
                ) -> tuple[_Person | None, str, str, int, bool, bool]:
        """Find the signer of the statement at ``m_start:m_end``.

        Returns (person, role text on the signer's own lines, a role line under the statement, span start,
        continuation, below).

        ``continuation`` is True when the statement is only the date line of the signature right above it;
        ``below`` when the signer was read from the line under a statement that did not end in "by"/":".
        """
        line_start, line_end = self._line_bounds(text, m_start)[0], self._line_bounds(text, m_end)[1]
        by = bool(_ENDS_WITH_BY.search(text[max(m_start, m_end - 6) : m_end]))
        person, dangling, need, date_end, lead_role = self._forward(text, m_end, line_end, by)
        prefix = text[line_start:m_start]
        label = _LABEL.match(prefix)
        prefix_label = (label.group(1) or "") if label and label.end() == len(prefix) else ""
        if person is not None and (person.identified or (person.name and not need) or (person.credential and not need)):
            own = " ".join((prefix_label, lead_role, person.rest))
            return person, own, self._role_line_after(text, line_end, attest_starts), m_start, False, False
        statement_rest = text[date_end:line_end]

        def has_attestation(start: int, end: int) -> bool:
            i = bisect_left(attest_starts, start)
            return i < len(attest_starts) and attest_starts[i] < end

        def next_line(need_id: bool) -> tuple[_Person | None, str]:
            n_end = line_end
            for _ in range(2):  # past one rule line ("________", "-----")
                if n_end >= len(text):
                    return None, ""
                n_start, n_end = n_end + 1, text.find("\n", n_end + 1)
                n_end = len(text) if n_end == -1 else n_end
                if _HAS_WORD.search(text, n_start, n_end):
                    break
            if has_attestation(n_start, n_end):
                return None, ""
            p, lab = self._other_line(text, n_start, n_end, cased=need_id)
            if p is None or (need_id and not p.identified) or not (p.name or p.credential):
                return None, ""
            return p, " ".join((lab, p.rest))

        if dangling:
            p, role = next_line(need_id=False)
            if p is not None:
                return p, role, "", m_start, False, False
        # Before the signing words on the same line: "Attending: Jane Roe, MD — electronically signed …"; when an
        # earlier statement holds that line ("Report finalised by Jane Roe, MD (electronic signature)") this one
        # only repeats it.
        if has_attestation(line_start, m_start):
            return None, "", "", m_start, True, False
        if prefix.strip():
            lab = _LABEL.match(prefix)
            lab_text = (lab.group(1) or "") if lab else ""
            p = None if (lab_text and not self._signer_label(lab_text)) else self._read_person(
                text, line_start + (lab.end() if lab else 0), m_start)
            if p is None or not p.identified:
                # "Scan analysed by Maria Costa, CBDT - e-signed …": the person after the prefix's last "by".
                bys = list(re.finditer(r"\bby\b", prefix, re.IGNORECASE))
                p = self._read_person(text, line_start + bys[-1].end(), m_start) if bys else p
                lab_text = prefix[: bys[-1].start()] if bys else lab_text
            if p is not None and p.identified and len(text[p.end:m_start].split()) <= 4:
                return p, " ".join((lab_text, text[p.end:m_start], statement_rest)), "", p.start, False, False
        # The signature block above: "Jane Roe, MD / Radiology / Electronically signed <date>".
        between: list[str] = []
        k = line_start
        for _ in range(_BLOCK_LINES):
            if k == 0:
                break
            p_end = k - 1
            p_start = text.rfind("\n", 0, p_end) + 1
            line = text[p_start:p_end]
            if not line.strip():
                break
            if not _HAS_WORD.search(line):
                k = p_start  # a rule line inside the block ("Jane Roe, MD / ------ / Electronically signed …")
                continue
            if has_attestation(p_start, p_end):
                if not between and person is None:
                    return None, "", "", m_start, True, False  # "Signed on: <date>" under "Electronically signed by: …"
                break
            p, lab_text = self._other_line(text, p_start, p_end)
            # A name under a role label is that role's signer even without a credential ("Technologist: Dana Cole").
            if p is not None and (p.identified or (p.name and self._role_words(lab_text))):
                return p, " ".join((lab_text, p.rest, *between, statement_rest)), "", p.start, False, False
            if len(line.split()) > _SHORT_LINE_WORDS or lab_text:
                break
            between.append(line)
            k = p_start
        if not dangling:
            p, role = next_line(need_id=True)
            if p is not None:
                return p, " ".join((role, statement_rest)), "", m_start, False, True
        # Nothing better: what followed the signing words (a name without a credential, or nothing).
        return (person, " ".join((prefix_label, person.rest if person else "", statement_rest)), "", m_start,
                False, False)

    def _role_line_after(self, text: str, line_end: int, attest_starts: list[int]) -> str:
        """The line under a signing statement when it is a short role line ("Consultant Radiologist")."""
        if line_end >= len(text):
            return ""
        n_end = text.find("\n", line_end + 1)
        n_end = len(text) if n_end == -1 else n_end
        line = text[line_end + 1 : n_end]
        i = bisect_left(attest_starts, line_end + 1)
        if (i < len(attest_starts) and attest_starts[i] < n_end) or ":" in line or len(line.split()) > 6:
            return ""
        if re.search(r"sign|review|pending|prelim|draft|final", line, re.IGNORECASE):
            return ""
        return line

    # -- status ---------------------------------------------------------------------------
    def _sentence(self, text: str, start: int, end: int) -> tuple[int, int]:
        lo = max(0, start - 200)
        head = text[lo:start]
        cut = [m.end() for m in _SENTENCE_END.finditer(head)]
        s = lo + cut[-1] if cut else lo
        tail = _SENTENCE_END.search(text, end, min(len(text), end + 200))
        return s, (tail.start() if tail else min(len(text), end + 200))

    def _is_status(self, text: str, start: int, end: int, contextual: bool) -> bool:
        """Whether a not-final marker at ``start:end`` states the report's status.

        Signature-type markers ("pending signature", "unsigned") always do, unless a condition leads their
        clause. "Preliminary", "draft", "not reviewed/approved" do in a sentence about the report, its read, its
        signature or its signer; on a status line of their own ("*** DRAFT ***", "PRELIMINARY - RESIDENT READ");
        or as a sentence with nothing else in it ("Verification pending.", "This is a draft."), but not in
        prose about something else ("Prior authorization pending approval", "preliminary diagnosis").
        """
        s, e = self._sentence(text, start, end)
        if self.status_conditional.search(text[s:start]):
            return False  # "If not approved, zoledronic acid …"
        if _STATUS_CHANGE.match(text, end, min(len(text), end + 40)):
            return False  # "status PRELIM -> FINAL": the status it changed from
        line_start = self._line_bounds(text, start)[0]
        if _LOG_LINE.match(text, line_start) or _HISTORY_LINE.match(text, line_start):
            return False  # an audit-trail entry ("2024-05-03T14:22 | usr=… | draft saved") is history, not status
        if not contextual:
            return True
        if self.status_subject.search(text[s:start]) or self.status_subject.search(text[end:e]):
            return True
        others = [w for w in re.findall(r"[^\W\d_]+", text[s:start] + " " + text[end:e]) if w.lower() not in _FILLER]
        if not others:
            return True
        line_start, line_end = self._line_bounds(text, start)
        line = text[line_start:line_end].strip()
        if len(line.split()) > 12:
            return False
        return line[:1] in "*[(<=#~" or not any(c.islower() for c in line)

    def _final_ok(self, text: str, start: int, end: int) -> bool:
        """Whether a final-status marker states the report is final.

        Not when it says "will be finalized" or "final report to follow".
        """
        s, e = self._sentence(text, start, end)
        before = text[max(s, start - 40) : start]
        after = text[end : min(e, end + 40)]
        if re.search(r"\b(?:not|never|no|until|once|when|before|awaiting|pending|will|shall|to\s+be|yet|upon|if)\b",
                     before, re.IGNORECASE):
            return False
        if _BLANK_FIELD.match(after):
            return False  # a form field left empty: "Finalized : --", "Final signature: ____"
        return not re.match(r"\A[\s:-]{0,3}(?:report\s)?"
                            r"(?:to\s+follow|will|follows|pending|is\s+pending|awaited|to\s+be|not\s+yet)",
                            after, re.IGNORECASE)

    # -- the whole text -------------------------------------------------------------------
    def find(self, text: str, folded: str | None = None
             ) -> tuple[list[SignatureFinding], list[tuple[str, int, int, bool]]]:
        """Signing statements and status markers ``(rule_id, start, end, is_final)`` in ``text``.

        Args:
            text: The report.
            folded: ``fold_case(text)``, when the caller has it.
        """
        folded = fold_case(text) if folded is None else folded
        matches: list[tuple[str, re.Match[str]]] = []
        taken: list[tuple[int, int]] = []
        for rule_id, rx in self.attest:
            for m in rx.finditer(text, folded):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                matches.append((rule_id, m))
                taken.append((m.start(), m.end()))
        attest_starts = sorted(m.start() for _, m in matches)
        sigs: list[SignatureFinding] = []
        for rule_id, m in matches:
            line_start, line_end = self._line_bounds(text, m.start())[0], self._line_bounds(text, m.end())[1]
            before = text[max(line_start, m.start() - 40) : m.start()]
            window = text[max(line_start, m.start() - 40) : min(len(text), m.end() + 12)]
            after = text[m.end() : min(line_end, m.end() + 60)]
            negated = (bool(self.negation.search(window))
                       or bool(re.search(r"\b(?:not|never|un)[\s-]{0,3}\Z", before, re.I))
                       or bool(_BLANK.match(after)) or bool(_NEGATED_AFTER.match(after)))
            # Signed on someone's behalf ("signed in his absence by", "signed on behalf of"): the person named
            # next is not the signer; the signer is whoever follows the next "by", if anyone.
            lead_ws = len(after) - len(after.lstrip(" \t:-–—"))
            in_match = self.proxy.search(m.group(0))
            after_proxy = None if in_match else self.proxy.match(after, lead_ws)
            proxy_at = bool(in_match or after_proxy)
            below = False
            if negated:
                person, own, extra, start, continuation = None, "", "", m.start(), False
            elif proxy_at:
                tail = m.end() + (after_proxy.end() if after_proxy else 0)
                by = re.search(r"\bby\b", text[tail:line_end], re.IGNORECASE)
                person = self._read_person(text, tail + by.end(), line_end) if by else None
                start, continuation = m.start(), False
                own, extra = (person.rest if person else ""), self._role_line_after(text, line_end, attest_starts)
            else:
                person, own, extra, start, continuation, below = self._locate(text, m.start(), m.end(), attest_starts)
                if person is not None and person.name and not person.credential:
                    person = self._credential_nearby(text, line_start, line_end, person)
            if continuation:
                continue
            role = " ".join((own, extra))
            kind, review = self._classify(person, own, extra, proxy_at)
            if kind == "qualified" and _OTHER_DOCUMENT.search(text[max(line_start, m.start() - 40) : m.end() + 40]):
                kind, review = "not_report", None  # "Order electronically signed by the ordering physician …"
            if proxy_at and person is None:
                kind = "proxy"
            if below and kind == "qualified":
                review = ("the signing statement names no one; its signer was read from the line under it "
                          f"({', '.join(x for x in (person.name, person.credential) if x) if person else ''})")
            ctx_end = text.find("\n", m.end(), m.end() + _SIGNER_WINDOW)
            ctx_line = text[max(line_start, m.start() - _SIGNER_WINDOW) :
                            ctx_end if ctx_end != -1 else min(len(text), m.end() + _SIGNER_WINDOW)]
            attending = bool(self.attending.search(ctx_line) or self.attending.search(role)
                             or self._attending_above(text, min(start, line_start)))
            end = max(m.end(), person.end if person is not None and person.end > m.start() else m.end())
            sigs.append(SignatureFinding(rule_id, person.name if person else None,
                                         person.credential if person else None, kind, negated, attending,
                                         min(start, m.start()), min(len(text), end), review))
        sigs.sort(key=lambda s: s.start)
        status: list[tuple[str, int, int, bool]] = []
        for rule_id, rx, contextual in self.not_final:
            status.extend((rule_id, m.start(), m.end(), False) for m in rx.finditer(text, folded)
                          if self._is_status(text, m.start(), m.end(), contextual))
        status.extend(self._hl7_status(text))
        assert self.rules is not None
        status.extend((self.rules.status_final.id, m.start(), m.end(), True) for m in self.final.finditer(text, folded)
                      if self._final_ok(text, m.start(), m.end()))
        status.sort(key=lambda s: (s[1], s[0]))
        return sigs, status

    @staticmethod
    def _hl7_status(text: str) -> list[tuple[str, int, int, bool]]:
        """Not-final result statuses in embedded HL7 segments: OBR-25 or OBX-11 'P' (preliminary), 'I' (pending),
        'R' (entered, not verified). Field positions are read with a little slack (OBR-22..28), as hand-written
        messages often miscount empty fields."""
        out: list[tuple[str, int, int, bool]] = []
        for m in _HL7_SEGMENT.finditer(text):
            fields = m.group(2).split("|")
            window = range(21, 28) if m.group(1).upper() == "OBR" else range(10, 11)
            pos = m.start(2)
            offsets = [pos]
            for f in fields[:-1]:
                offsets.append(offsets[-1] + len(f) + 1)
            for i in window:
                if i < len(fields) and fields[i].strip() in ("P", "I", "R"):
                    out.append(("G-STATUS-HL7", offsets[i], offsets[i] + len(fields[i]), False))
                    break
        return out

    def _attending_above(self, text: str, line_start: int) -> bool:
        """An attending's attestation on the lines just above ("I have reviewed … and agree"), not a status line."""
        lo = max(0, line_start - 300)
        for line in text[lo:line_start].split("\n")[-4:]:
            if self.attending.search(line) and not any(rx.rx.search(fold_case(line)) for _, rx, _ in self.not_final):
                return True
        return False

    def __call__(self, doc: Doc) -> Doc:
        offsets = token_offsets(doc)
        sigs, status = self.find(offsets[0], offsets[4])
        sig_spans: list[Span] = []
        for s in sigs:
            span = char_span(doc, s.start, s.end, SIGNATURE_LABEL)
            if span is not None and len(span):
                span._.signature = s
                sig_spans.append(span)
        status_spans: list[Span] = []
        for rule_id, start, end, is_final in status:
            span = char_span(doc, start, end, STATUS_FINAL_LABEL if is_final else STATUS_NOT_FINAL_LABEL)
            if span is not None and len(span):
                span._.status = rule_id
                status_spans.append(span)
        doc.spans[self.span_group] = sig_spans
        doc.spans[self.status_group] = status_spans
        return doc


@Language.factory(
    "tbs_signature",
    default_config={"span_group": SIGNATURE_GROUP, "status_group": STATUS_GROUP},
    assigns=["doc.spans", f"span._.{SIGNATURE_EXT}", f"span._.{STATUS_EXT}"],
)
def make_tbs_signature(nlp: Language, name: str, span_group: str, status_group: str) -> SignatureFinder:
    """Build the signature reader; its rules come in through ``.add()``."""
    return SignatureFinder(span_group, status_group)
