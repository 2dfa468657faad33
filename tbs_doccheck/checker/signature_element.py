"""The ``signature`` element: judging signing statements, report status and unsigned addenda."""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from tbs_doccheck.checker.components.schema import SIGNATURE_GROUP, STATUS_FINAL_LABEL, STATUS_GROUP
from tbs_doccheck.checker.components.signer import SignatureFinding
from tbs_doccheck.checker.elements import MAX_REJECTED, ElementFinding, _one_line, _Reader, line_start_of
from tbs_doccheck.models import Evidence, Signer


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
            rej.append(_sig_ev(r, span, f, "signed on someone else's behalf or in their absence, not by a qualified "
                                           "professional"
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
        elif r.scoped_section(span) in _QUOTED_SECTIONS or _PRIOR_REPORT.search(_line_of(r.text, f.start)):
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
            reason = ("No signing statement (electronically signed, /s/, signed by, attested by) "
                      "by a physician, NP or PA.")
        status_word = _status_word(not_final) if not_final else "unsigned"
        # A bare "Dr." is the one case where a person could tell what the text cannot (unless the report is not
        # final anyway).
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
    heads = list(_ADDENDUM_HEAD.finditer(r.text, span.end_char))
    for i, head in enumerate(heads):
        end = min(heads[i + 1].start() if i + 1 < len(heads) else len(r.text), head.start() + _ADDENDUM_WINDOW)
        # An administrative addendum ("name corrected; no change to the TBS or risk") attests nothing new; one that
        # states a TBS value, a risk assessment or a plan does, and so does a TBS number (a correction).
        if _ADDENDUM_VALUE.search(r.text, head.start(), end) or _states_findings(r, head.start(), end):
            rej.append(Evidence(text=head.group(0).strip(), start=head.start(), end=head.end(),
                                section=r.section_name(span), rule_id="G-ADDENDUM-UNSIGNED", reason="an addendum after "
                                                                                                    "the signature is "
                                                                                                    "not signed"))
            reason = (f"An addendum after {f.name or 'the'}'s signature carries no signature of its own "
                      f"('{_one_line(head.group(0))}'); its findings are not attested.")
            return (ElementFinding("signature", False, reason, [], rej[:MAX_REJECTED]),
                    Signer(name=f.name or "", credential=f.credential), "unsigned")
    if blocking:
        m = blocking[0]
        rej.append(Evidence(text=r.text[m.start_char:m.end_char], start=m.start_char, end=m.end_char,
                            section=r.section_name(m), rule_id=m._.status or "G-STATUS",
                            reason="report status is not final"))
        reason = (f"Report is {_status_word(blocking)} ('{_one_line(m.text)}'); "
                  "a final signature by a qualified professional is required.")
        return (ElementFinding("signature", False, reason, [], rej[:MAX_REJECTED]),
                Signer(name=f.name or "", credential=f.credential), _status_word(blocking))
    signer = Signer(name=f.name or "", credential=f.credential)
    who = ", ".join(x for x in (f.name, f.credential) if x)
    ev = [_sig_ev(r, span, f, "signing statement by a qualified professional")]
    review = [f.review] if f.review else []  # a signer placed where the layout leaves doubt
    return ElementFinding("signature", True, f"Signed by {who}.", ev, rej[:MAX_REJECTED], review), signer, "final"


def _states_findings(r: _Reader, start: int, end: int) -> bool:
    """Whether ``start:end`` states a fracture-risk assessment or a plan that counts (not negated, not generic)."""
    for labels, element in ((("RISK", "RISK_NUM"), "fracture_risk"), (("REC",), "recommendations")):
        for span in r.targets(*labels):
            if start <= span.start_char < end and r.rejection(span, element) is None:  # type: ignore[arg-type]
                return True
    return False


#: Sections whose signatures belong to another report (a comparison line, the history, a pasted prior report).
_QUOTED_SECTIONS = ("comparison", "history", "prior_report")
#: A signature line quoting another report ("Prior report (2022) electronically signed by …").
_PRIOR_REPORT = re.compile(r"\b(?:prior|previous|earlier|outside|comparison|old)\s+"
                           r"(?:report|study|exam|dxa|dexa|scan)\b",
                           re.IGNORECASE)


_LINE_WINDOW = 300  # a signing or status line is short; a longer "line" is prose or a run-on page


def _line_of(text: str, pos: int) -> str:
    """The line holding ``pos``, at most ``_LINE_WINDOW`` characters either side (linear on one-line reports)."""
    end = text.find("\n", pos, pos + _LINE_WINDOW)
    start = max(line_start_of(text, pos), pos - _LINE_WINDOW)
    return text[start : min(len(text), pos + _LINE_WINDOW) if end == -1 else end]


#: An addendum's heading line, and what makes one hold the interpretation (value, risk or plan).
_ADDENDUM_HEAD = re.compile(r"^[^\w\n]{0,10}(?:addendum|amendment)\b[^\n]{0,80}", re.IGNORECASE | re.MULTILINE)
_ADDENDUM_VALUE = re.compile(r"\b(?:tbs|trabecular)\b[^\n]{0,60}?\b[0-2][.,]\d{2,4}\b", re.IGNORECASE)
_ADDENDUM_WINDOW = 2000


#: A not-final marker about a trainee's read or the attending's review ("Attending review: pending").
_AWAITS_ATTENDING = re.compile(r"\b(?:attending|resident|fellow|trainee|registrar|house\s+officer|PGY|co-?sign\w*"
                               r"|consultant|staff)\b",
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
