"""Deciding every element of one report: the imaging-source, fracture-risk and plan elements, and :func:`extract`."""

from __future__ import annotations

from spacy.tokens import Doc

from tbs_doccheck.checker.elements import MAX_EVIDENCE, MAX_REJECTED, DocFindings, ElementFinding, _one_line, _Reader
from tbs_doccheck.checker.patterns import PatternSet
from tbs_doccheck.checker.signature_element import _signature
from tbs_doccheck.checker.tbs_element import _tbs_value
from tbs_doccheck.models import ELEMENT_IDS, Evidence


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
        return ElementFinding("imaging_source", True, f"Imaging study named: '{_one_line(ev[0].text)}'.",
                              ev[:MAX_EVIDENCE], rej[:MAX_REJECTED])
    if rej:
        return ElementFinding("imaging_source", False,
                              f"The only modality mentions do not describe this exam: "
                              f"{rej[0].reason.removeprefix('does not count: ')}.",
                              [], rej[:MAX_REJECTED])
    return ElementFinding("imaging_source", False,
                          "No imaging modality (DXA/DEXA, densitometry, bone density scan) is named as the TBS source.")


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
        return ElementFinding("fracture_risk", True, f"Fracture risk assessed: '{_one_line(ev[0].text)}'.",
                              ev[:MAX_EVIDENCE], rej[:MAX_REJECTED])
    if rej:
        return ElementFinding("fracture_risk", False,
                              f"Fracture risk is mentioned but not assessed for this patient: "
                              f"{rej[0].reason.removeprefix('does not count: ')}.",
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
        return ElementFinding("recommendations", True, f"Recommendation given: '{_one_line(ev[0].text)}'.",
                              ev[:MAX_EVIDENCE], rej[:MAX_REJECTED])
    if rej:
        return ElementFinding("recommendations", False,
                              f"No usable recommendation: the only one is "
                              f"{rej[0].reason.removeprefix('does not count: ')}.",
                              [], rej[:MAX_REJECTED])
    return ElementFinding("recommendations", False,
                          "No recommendation or plan is given "
                          "(the heading is missing, empty, 'none' or a placeholder).")


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
