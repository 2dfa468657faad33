"""Reading a signer: the signing regexes and word lists, :class:`SignatureFinding` and :class:`PersonReader`."""


import re
from dataclasses import dataclass

# Every helper pattern below is anchored (\A) and applied to a short slice, or is a plain word search.
_DATEISH = re.compile(
    r"\A(?:\d|on\b|at\b|dated?\b|date\b|time\b|\(|\[|-{1,2}\s*\d)",
    re.IGNORECASE,
)
_MONTH = re.compile(
    r"\A(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?)\.?\Z",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"\A[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]*)*\.?\Z")
# A word of a name or a credential; UK/Commonwealth degrees written in parts ("MB BS", "MB ChB",
# "MB BCh BAO", "BM BS") are read as one credential, so that "BS" alone never reads as one.
_TOKEN = re.compile(
    r"M\.?\s?B\.?,?\s?(?:B\.?\s?S|C[Hh]\.?\s?B|B\.?\s?C[Hh](?:\.?\s?B\.?\s?A\.?\s?O)?)\.?(?=[\s,;)]|\Z)"
    r"|B\.?\s?M\.?\s?(?:B\.?\s?S|B\.?\s?C[Hh])\.?(?=[\s,;)]|\Z)"
    r"|M\.\s?D\.|D\.\s?O\."
    r"|[^\s,;|]+(?:\([A-Za-z]{1,3}\))*"
)
# A credential-shaped word (capitals, maybe dots or a hyphen): "MPAS", "DMRD", "F.A.C.R.".
_CRED_LIKE = re.compile(r"\A(?=(?:[^A-Z]*[A-Z]){2})[A-Z][A-Za-z.()/-]{1,11}\Z")
# Punctuation and "by" between the signing words and the signer: "signed by: ", "signed | ", "signed - ".
_BY_LEAD = re.compile(
    r"\A[\s:\-–—=>|*.,\])]{0,12}(?:(?:verified|applied|affixed|present|on\s+file)\b[\s:]{0,3})?"
    r"(?:(?:and|&)\s{1,3}[a-z]{2,15}ed\s{1,3}(?=by\b))?"  # "signed and authorised by"
    r"(?:(by|per|von|par|por|door)\b[\s:\-–—|]{0,12})?",
    re.IGNORECASE,
)
_DATE_LEAD = re.compile(
    r"\A[\s,;:|*\-–—]{0,12}(?:(?:on|at|dated?|date|time)\b[\s:]{0,6})?"
    r"(?:\d{1,4}[/.\-][\dOo]{1,2}[/.\-][\dOo]{2,4}|\d{1,2}\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?,?\s\d{4}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?\s\d{1,2},?\s\d{4})"
    r"(?:[\s,T]{1,3}(?:at\s)?\d{1,2}[:h.]?\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?(?:\s?[ap]\.?m\.?)?(?:\s(?:[A-Z]{1,2}[SD]T|UTC|GMT|CEST|CET|BST|IST|AEST|AEDT|NZST)\b)?)?",
    re.IGNORECASE,
)
_PUNCT_LEAD = re.compile(r"\A[\s:\-–—|,*>]{0,60}")
# Dr., Doctor, Prof. and the German "Dr. med." ahead of a name.
_HONORIFIC = re.compile(r"\A(?:(?:dr|doctor|prof|professor)\b\.?\s{0,3}(?:med\b\.?\s{0,3})?){1,3}", re.IGNORECASE)
# "Technologist: ", "Interpreting physician: ", "Attending - " ahead of a name on a signature line.
_LABEL = re.compile(r"\A[ \t*>•-]{0,8}(?:([A-Za-z][\w /()&.-]{0,40}):)?[ \t]{0,8}")
# Label words that introduce a signer ("Read by:", "Signer:", "Provider:") besides the role words.
_SIGNER_LABEL_WORDS = frozenset({"by", "name", "signer", "signature", "signed", "provider", "reader", "clinician",
                                 "practitioner", "doctor", "dr", "dictated", "reported", "interpreted", "author",
                                 "authenticator", "verifier", "md"})
# A signing statement about another document or by another party: the order, the requisition, a consent,
# the referral, the patient.
_OTHER_DOCUMENT = re.compile(
    r"\b(?:order(?:ed|ing)?|requisition|consent|prescription|referral|referring|patient(?:'s)?)\s+(?:form\s+)?"
    r"(?:(?:was|is|has\s+been)\s+)?(?:e-?|electronically\s+|digitally\s+)?(?:signed|signature|physician|provider)",
    re.IGNORECASE,
)
# Labels naming someone who is not the report's signer.
_OTHER_PERSON_LABEL = re.compile(
    r"\b(?:referr\w*|order\w*|requesting|requested|cc|copy|copies|pcp|primary\s+care|patient|sent\s+to|attn|guarantor"
    r"|supervis\w*)\b",
    re.IGNORECASE,
)
# The statement itself says no signature was given: "Electronic signature: not applied", "Signed: none".
_NEGATED_AFTER = re.compile(
    r"\A[\s:\-–—|(]{0,12}(?:no|not|none|nil|pending|n/?a|unsigned|required|awaiting|outstanding|missing|to\s+follow)\b",
    re.IGNORECASE,
)
# A blank where a signer should be: "Signed by: ________", "Electronically signed: [ ]".
_BLANK = re.compile(r"\A[\s:\-–—|]{0,12}(?:_{2,}|\[[^\]\n]{0,30}\]|\{\{|\*{2,}|<[^>\n]{0,30}>|\.{3,})")
# Where the signer's own words end on their line: a sentence break or a clause about something else
# ("… MD (Attending) after review of the fellow's read").
_REST_END = re.compile(r"[.;!?](?:\s|\Z)|\b(?:after|following|upon|with|regarding|because|who|which)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.;!?](?:\s|\Z)|\n")
_HAS_WORD = re.compile(r"[^\W_]")
_ENDS_WITH_BY = re.compile(r"(?:\bby|:)\s{0,3}\Z", re.IGNORECASE)
# An HL7 result segment written into the text: its name, then its fields (the segment name counts as field 0).
_HL7_SEGMENT = re.compile(r"^[ \t]{0,4}(OBR|OBX)\|([^\n\r]*)", re.MULTILINE)
_SIGNER_WINDOW = 200  # signer, credentials and role sit right beside the signing words
_BLOCK_LINES = 3  # how far up a signature block's name/credential line may sit
_SHORT_LINE_WORDS = 8  # a role or department line of a signature block is short
_STOP_WORDS = frozenset({"on", "at", "date", "dated", "time", "for", "the", "of", "in", "via", "using", "a", "an",
                         "this", "that", "and", "with", "who", "is", "was", "has", "have", "been", "not", "to", "from",
                         "as", "after", "before", "under", "per", "by"})
_AMBIGUOUS_LOWER = frozenset({"do", "ma", "pa", "ms", "dm", "bs", "mb", "ca", "ra", "od", "pt", "ot", "dc", "ba", "rd"})
# Words that leave a short sentence about nothing but the status ("This is a draft.", "Review: pending").
_FILLER = frozenset({"this", "is", "a", "an", "the", "it", "was", "has", "been", "be", "yet", "still", "currently",
                     "now", "only", "and", "or", "as", "of", "at", "present", "time"})
_KIND_ORDER = ("trainee", "staff", "qualified", "unqualified", "other")


# Where a degree was granted, written after it ("MBBS(HK)", "MRCP(UK)", "FRCP(Edin)"); normalised (upper case).
_COUNTRY_SUFFIX = re.compile(r"(?<=[A-Z])\((?:[A-Z]{2,3}|LOND|EDIN|GLASG|IREL|HONS)\)\Z")


def _tidy_credential(raw: str) -> str:
    """A credential as written, without the brackets and punctuation around it ("(MD)", "MD>", "PA-C,")."""
    raw = raw.strip(" ,;:<>[]{}")
    if raw.startswith("(") and raw.endswith(")") and raw.count("(") == 1:
        raw = raw[1:-1]  # "Jane Roe (MD)"
    while raw.endswith(")") and raw.count(")") > raw.count("("):
        raw = raw[:-1]  # "(Jane Roe, MD)"
    while raw.startswith("(") and raw.count("(") > raw.count(")"):
        raw = raw[1:]
    return raw


@dataclass(frozen=True, slots=True)
class SignatureFinding:
    """One signing statement and who it names.

    Attributes:
        rule_id: The attestation rule that matched.
        name: The signer's name as written, or None when no name is found.
        credential: The credentials as written ("MD", "MBBS, FRCP"), or None.
        kind: ``qualified``; ``staff`` (technologist, nurse, scribe…); ``trainee``; ``unqualified`` (a
            credential or role that is not a physician, NP or PA: DC, PhD physicist, DNP alone…);
            ``bare_dr`` ("Dr. X" with no credential or role); ``proxy`` (signed on someone's behalf);
            ``not_report`` (signs an order, requisition or consent, or is the ordering physician's); ``unknown``.
        negated: The statement says the report is *not* signed.
        attending: The statement is an attending's (attestation wording or role nearby).
        start: Offset where the statement (or the signer's name, when it stands before it) starts.
        end: Offset where the statement or the signer's credentials end.
        review: Why a person should look at this signer (a bare "Dr.", a signer read from the line under the
            statement), or None.
    """

    rule_id: str
    name: str | None
    credential: str | None
    kind: str
    negated: bool
    attending: bool
    start: int
    end: int
    review: str | None = None


@dataclass(slots=True)
class _Person:
    """A name and/or credentials read at one place of a line."""

    name: str | None
    credential: str | None
    kinds: set[str]
    had_dr: bool
    start: int
    end: int
    rest: str  # the rest of the person's line after the credentials (role words, dates)

    @property
    def identified(self) -> bool:
        """A name with a credential, or "Dr." and a name: enough to take from a line that is not the statement's own."""
        return bool(self.name and (self.credential or self.had_dr))


# A status field whose value is empty or a placeholder: the label alone says nothing about the report.
_BLANK_FIELD = re.compile(
    r"[ \t]{0,20}(?:on|date|by)?[ \t]{0,4}[:=][ \t]{0,20}(?:-{1,3}|—|–|_{2,40}|n/?a|none|no|\[\s{0,3}\]|\(\s{0,3}\))?"
    r"[ \t]{0,20}(?:$|[|\n])",
    re.IGNORECASE | re.MULTILINE,
)


# An audit-trail or log line: it opens with a timestamp.
_LOG_LINE = re.compile(r"[ \t]{0,8}\[?(?:19|20)\d\d-\d\d-\d\d[T ]\d\d:\d\d")
# A line listing a report's versions ("Result history: Final result (5/6 3:12 PM)  Preliminary result (…)").
_HISTORY_LINE = re.compile(r"[ \t*>•-]{0,8}(?:(?:result|status|report|version|revision|document|edit|signature|audit)"
                           r"[ \t]+(?:history|log|trail|versions?)|audit[ \t]+trail|change[ \t]+log|versions?"
                           r"|previous[ \t]+versions?)[ \t]*[:|-]", re.IGNORECASE)
# A status that changed into another one ("PRELIM -> FINAL", "preliminary to final"): only the new one holds.
_STATUS_CHANGE = re.compile(r"[ \t]{0,3}(?:->|→|=>|⇒|-->|\bto\b|\bchanged\s+to\b)[ "
                            r"\t]{0,3}(?:final|signed|verified|authori[sz]ed)\b",
                            re.IGNORECASE)


class PersonReader:
    """Reads ``[Dr.] Name[, CRED]`` and judges credentials; :class:`SignatureFinder` fills the word lists.

    Attributes:
        bags: Normalised credentials by kind (``trainee``, ``staff``, ``qualified``, ``unqualified``, ``other``).
        suffixes: Normalised certification suffixes allowed in a compound credential ("-BC").
        particles: Lower-case name particles ("van", "de").
        role_vocab: Lower-case words of role phrases and role labels.
        not_name: Lower-case words that make a would-be name a role or a department.
    """

    bags: dict[str, set[str]]
    suffixes: set[str]
    particles: set[str]
    role_vocab: set[str]
    not_name: set[str]

    @staticmethod
    def _words_rx(words: list[str]) -> re.Pattern[str]:
        alts = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
        return re.compile(r"\b(?:" + alts + r")s?\b", re.IGNORECASE)

    @staticmethod
    def _norm(cred: str) -> str:
        return re.sub(r"[.\s,]", "", cred).upper()

    # -- credentials and persons ---------------------------------------------------------
    def _bag_kind(self, norm: str) -> str | None:
        for kind in _KIND_ORDER:
            if norm in self.bags[kind]:
                return kind
        country = _COUNTRY_SUFFIX.search(norm)
        if country:  # "MBBS(HK)", "MD (Lond)", "FRCP(Edin)": the degree, with where it was granted
            return self._bag_kind(norm[: country.start()])
        return None

    def _credential_kind(self, token: str) -> str | None:
        raw = _tidy_credential(token)
        if not raw or (raw.islower() and raw in _AMBIGUOUS_LOWER):
            return None
        n = self._norm(raw)
        kind = self._bag_kind(n)
        if kind is not None or not ("-" in n or "/" in n):
            return kind
        # A compound ("APRN-CNP", "MD/PhD", "RN-BC"): every part a credential or a certification suffix.
        parts = [p for p in re.split(r"[-/]", n) if p]
        kinds = [self._bag_kind(p) for p in parts]
        if not parts or any(k is None and p not in self.suffixes for k, p in zip(kinds, parts, strict=True)):
            return None
        return next((k for k in _KIND_ORDER if k in kinds), None)

    def _read_person(self, text: str, pos: int, limit: int) -> _Person | None:
        """Read ``[Dr.] Name[, CRED, CRED]`` starting at ``pos`` (not past ``limit``, the line's end)."""
        seg = text[pos:limit]
        lead = _PUNCT_LEAD.match(seg)
        offset = lead.end() if lead else 0
        hon = _HONORIFIC.match(seg[offset:])
        offset += hon.end() if hon else 0
        name_words: list[str] = []
        creds_start = creds_end = None
        kinds: set[str] = set()
        name_start = name_end = None
        toks = [m for m, _ in zip(_TOKEN.finditer(seg, offset), range(24), strict=False)]
        tkinds = [self._credential_kind(m.group(0)) for m in toks]
        prev_end = offset
        for i, m in enumerate(toks):
            word = m.group(0)
            after_comma = "," in seg[prev_end : m.start()]
            prev_end = m.end()
            kind = tkinds[i]
            # An unlisted credential among listed ones ("Jane Roe, MPAS, PA-C", "MBBS, DMRD, MD"): skipped over
            # when a listed credential follows within two words.
            if kind is None and _CRED_LIKE.match(word) and any(tkinds[i + 1 : i + 3]) and (
                    creds_start is not None or (after_comma and len(name_words) >= 2)):
                kind = "other"
            if kind:
                kinds.add(kind)
                creds_start = m.start() if creds_start is None else creds_start
                creds_end = m.end() - (len(word) - len(word.rstrip(",;:")))
                continue
            initial = bool(name_words) and len(word.rstrip(".")) == 1 and word[0].isupper()  # "ROE, JANE A MD"
            if creds_start is not None or _DATEISH.match(word) or (word.lower() in _STOP_WORDS and not initial):
                break
            if _MONTH.match(word) and len(name_words) >= 2:  # "Jane Doe March 3, 2025"; "April Lee" is a name
                break
            if not (_NAME_WORD.match(word) or word.lower() in self.particles) or len(name_words) >= 6:
                break
            # "Omar Said, Consultant Endocrinologist", "Ann Low Radiologist": the role is not part of the name;
            # "Smith, Harold J." is ("Last, First").
            if name_words and (word.strip(".").lower() in self.role_vocab or (after_comma and len(name_words) >= 2)):
                break
            name_words.append(word)
            name_start = m.start() if name_start is None else name_start
            name_end = m.end()
        name = None
        if name_words and name_start is not None and name_end is not None:
            # The name as written ("Smith, Harold J."), minus the punctuation that joins it to what follows.
            name = seg[name_start:name_end].strip(" ,;")
            if name.endswith(".") and len(name_words[-1]) > 2:
                name = name[:-1]
            if all(w.strip(".,").lower() in self.not_name for w in name_words):
                name = None  # "Interpreting Radiologist", "Radiology Department": a role, not a person
        credential = _tidy_credential(seg[creds_start:creds_end]) if creds_start is not None else None
        if name is None and credential is None:
            return None
        end = pos + (creds_end if creds_end is not None else (name_end or offset))
        start = pos + min(x for x in (name_start, creds_start) if x is not None)
        rest = text[end:limit]
        cut = _REST_END.search(rest)
        return _Person(name, credential or None, kinds, bool(hon), start, end, rest[: cut.start()] if cut else rest)
