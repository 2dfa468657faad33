"""The ``tbs_signature`` component: signing statements, signers, credentials and report status, as spans."""


import re
from dataclasses import dataclass

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
from tbs_doccheck.checker.patterns import SignatureRules
from tbs_doccheck.checker.speedups.fast_regex import Scanner
from tbs_doccheck.checker.speedups.offsets import fold_case, token_offsets
from tbs_doccheck.checker.speedups.spans import char_span

_DATEISH = re.compile(
    r"^(?:\d|on\b|at\b|dated?\b|date\b|time\b|\(|\[|-{1,2}\s*\d)",
    re.IGNORECASE,
)
_MONTH = re.compile(
    r"^(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?)\.?$",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]*)*\.?$")
_AMBIGUOUS_LOWER = frozenset({"do", "ma", "pa", "ms", "dm", "bs", "mb", "ca", "ra"})
# Signer, credentials and role sit right beside the signing words; reading a bounded window
# keeps a one-line report with thousands of "signed by" linear.
_SIGNER_WINDOW = 200
_STOP_WORDS = frozenset({"on", "at", "date", "dated", "time", "for", "the", "of", "in", "via", "using"})


@dataclass(frozen=True, slots=True)
class SignatureFinding:
    """One signing statement and who it names.

    Attributes:
        rule_id: The attestation rule that matched.
        name: The signer's name as written, or None when no name follows.
        credential: The credentials as written ("MD", "MBBS, FRCP"), or None.
        kind: ``qualified``, ``staff``, ``trainee`` or ``unknown``.
        negated: The statement says the report is *not* signed.
        attending: The statement is an attending's (attestation wording or role nearby).
        start: Offset where the statement starts.
        end: Offset where the signer's credentials end.
    """

    rule_id: str
    name: str | None
    credential: str | None
    kind: str
    negated: bool
    attending: bool
    start: int
    end: int


class SignatureFinder:
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
        self.not_final = [(r.id, Scanner(r.pattern)) for r in rules.status_not_final]
        self.final = Scanner(rules.status_final.pattern, re.IGNORECASE | re.MULTILINE)
        self.attending = rules.attending_markers.compile()
        self.trainee = rules.trainee_markers.compile()
        norm = self._norm
        self.qualified = {norm(c) for c in rules.credentials_qualified}
        self.staff = {norm(c) for c in rules.credentials_staff}
        self.other = {norm(c) for c in rules.credentials_other}
        self.trainee_creds = {norm(c) for c in rules.credentials_trainee_excluded}
        self.roles = [r.lower() for r in rules.roles_qualified]
        self.particles = {p.lower() for p in rules.name_particles}

    @staticmethod
    def _norm(cred: str) -> str:
        return re.sub(r"[.\s]", "", cred).upper()

    def _credential_kind(self, token: str) -> str | None:
        raw = token.strip(",;:")
        if not raw:
            return None
        if raw.islower() and raw in _AMBIGUOUS_LOWER:
            return None
        n = self._norm(raw)
        for kind, bag in (("trainee", self.trainee_creds), ("staff", self.staff),
                          ("qualified", self.qualified), ("other", self.other)):
            if n in bag:
                return kind
        return None

    def _parse_signer(self, text: str, pos: int) -> tuple[str | None, str | None, set[str], int, str]:
        """Read ``Name, CRED, CRED`` starting at ``pos``; returns (name, credential, kinds, end, rest of line)."""
        line_end = text.find("\n", pos)
        line_end = min(len(text) if line_end == -1 else line_end, pos + _SIGNER_WINDOW)
        seg = text[pos:line_end]
        if not re.search(r"[A-Za-z]{2}", seg):  # "Electronically signed by\nName, MD"
            nxt_end = text.find("\n", line_end + 1)
            nxt_end = min(len(text) if nxt_end == -1 else nxt_end, line_end + 1 + _SIGNER_WINDOW)
            pos, line_end = line_end + 1, nxt_end
            seg = text[pos:line_end]
        lead = re.match(
            r"^[\s:\-–—=>|*]*(?:(?:on\s+)?[\d/.-]{6,10}(?:\s*(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)?[\s,]*"
            r"(?=by\b)|on\s+[\d/.-]+(?:\s*(?:at\s+)?\d{1,2}:\d{2})?[\s,]*)?(?:by\b[\s:]*)?(?:(?:Dr|Doctor)\b\.?\s*)?",
            seg,
            re.IGNORECASE,
        )
        offset = lead.end() if lead else 0
        name_words: list[str] = []
        creds: list[str] = []
        kinds: set[str] = set()
        end = pos + offset
        cred_start = cred_end = None
        name_end = offset
        for m in re.finditer(r"[^\s,;]+(?:\s*\((?:[A-Z]{1,3})\))*", seg[offset:]):
            word = m.group(0)
            kind = self._credential_kind(word)
            if kind:
                creds.append(word.strip(",;:"))
                kinds.add(kind)
                cred_start = cred_start if cred_start is not None else offset + m.start()
                cred_end = offset + m.end()
                continue
            if creds or _DATEISH.match(word) or word.lower() in _STOP_WORDS:
                break
            if _MONTH.match(word) and len(name_words) >= 2:  # "Jane Doe March 3, 2025"; "April Lee" is a name
                break
            if not (_NAME_WORD.match(word) or word.lower() in self.particles) or len(name_words) >= 6:
                break
            name_words.append(word)
            name_end = offset + m.end()
            end = pos + name_end
        # The name as written ("Smith, Harold J."), minus the punctuation that joins it to what follows.
        name = seg[offset:name_end].strip(" ,;") if name_words else ""
        if name.endswith(".") and len(name_words[-1]) > 2:
            name = name[:-1]
        name = name or None
        credential = None
        if cred_start is not None and cred_end is not None:
            credential = seg[cred_start:cred_end].strip(" ,;")
            end = pos + cred_end
        rest = text[end:line_end]
        return name, credential, kinds, end, rest

    def _classify(self, kinds: set[str], name: str | None, context: str, rest: str, had_dr: bool) -> str:
        if "staff" in kinds or "trainee" in kinds:
            return "staff" if "staff" in kinds else "trainee"
        if self.trainee.search(rest):
            return "trainee"
        if re.search(r"\b(?:scribe|transcription\w*|technologist|tech|radiographer)\b", rest, re.IGNORECASE):
            return "staff"
        if "qualified" in kinds:
            return "qualified"
        low = rest.lower()
        if had_dr or any(role in low for role in self.roles):
            return "qualified"
        return "unknown"

    def find(self, text: str, folded: str | None = None) -> tuple[list[SignatureFinding], list[tuple[str, int, int, bool]]]:
        """Signing statements and status markers ``(rule_id, start, end, is_final)`` in ``text``.

        Args:
            text: The report.
            folded: ``fold_case(text)``, when the caller has it.
        """
        folded = fold_case(text) if folded is None else folded
        sigs: list[SignatureFinding] = []
        taken: list[tuple[int, int]] = []
        for rule_id, rx in self.attest:
            for m in rx.finditer(text, folded):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                line_start = text.rfind("\n", 0, m.start()) + 1
                before = text[max(line_start, m.start() - 40) : m.start()]
                window = text[max(line_start, m.start() - 40) : min(len(text), m.end() + 12)]
                negated = bool(self.negation.search(window)) or bool(re.search(r"\b(?:not|un|never)[\s-]*$", before, re.I))
                had_dr = bool(re.match(r"[\s:\-]*(?:by\s+)?(?:Dr|Doctor)\b", text[m.end() : m.end() + 12], re.I))
                name, cred, kinds, end, rest = self._parse_signer(text, m.end())
                sig_start = m.start()
                if name is None and cred is None:
                    # "Attending: Jane Roe, MD — electronically signed 07/22/2024"
                    label = re.match(r"[ \t*>-]*(?:[A-Za-z][\w /()-]{0,40}:)?[ \t]*", text[line_start : m.start()])
                    before_start = line_start + (label.end() if label else 0)
                    b_name, b_cred, b_kinds, b_end, _ = self._parse_signer(text, before_start)
                    if b_name and b_end <= m.start() + 1:
                        name, cred, kinds = b_name, b_cred, b_kinds
                        sig_start = before_start
                        rest = text[m.end() : text.find("\n", m.end()) if text.find("\n", m.end()) != -1 else len(text)]
                prev_lines = text[max(0, text.rfind("\n", 0, max(0, line_start - 1)) - 200) : line_start]
                ctx_end = text.find("\n", m.end(), m.end() + _SIGNER_WINDOW)
                ctx_line = text[max(line_start, m.start() - _SIGNER_WINDOW) : ctx_end if ctx_end != -1 else min(len(text), m.end() + _SIGNER_WINDOW)]
                kind = self._classify(kinds, name, ctx_line, rest, had_dr)
                attending = bool(self.attending.search(ctx_line) or self.attending.search(prev_lines[-300:]))
                if name is None and cred is None:
                    kind = "unknown"
                sigs.append(SignatureFinding(rule_id, name, cred, kind, negated, attending, sig_start,
                                             min(len(text), max(end, m.end()))))
                taken.append((m.start(), max(end, m.end())))
        sigs.sort(key=lambda s: s.start)
        status: list[tuple[str, int, int, bool]] = []
        for rule_id, rx in self.not_final:
            status.extend((rule_id, m.start(), m.end(), False) for m in rx.finditer(text, folded))
        status.extend((self.rules.status_final.id, m.start(), m.end(), True) for m in self.final.finditer(text, folded))
        status.sort(key=lambda s: (s[1], s[0]))
        return sigs, status

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
