"""Scoring: pure functions from element findings to the four CPT 77092 requirements and the verdict."""

from __future__ import annotations

from collections.abc import Mapping

from tbs_doccheck.models import ELEMENT_IDS, ElementId, ElementResult, Requirement, Verdict

#: The four documentation requirements of CPT 77092 and the elements each rests on.
REQUIREMENTS: tuple[tuple[str, str, tuple[ElementId, ...]], ...] = (
    ("R1-imaging-data", "The imaging data used to obtain the TBS", ("imaging_source", "tbs_value")),
    ("R2-interpretation-risk", "Interpretation of the TBS and assessment of fracture risk", ("tbs_value", "fracture_risk")),
    ("R3-report-recommendations", "A report summarizing findings and recommendations", ("recommendations",)),
    ("R4-qualified-signature", "Signature of the qualified professional who interpreted and reported", ("signature",)),
)

_FIX = {
    "imaging_source": "name the DXA (or other imaging) study the TBS came from",
    "tbs_value": "state the numeric TBS measured on this study (0.500-2.000)",
    "fracture_risk": "state this patient's fracture risk (qualitative or TBS-adjusted FRAX)",
    "recommendations": "give at least one recommendation or plan for this patient",
    "signature": "have a physician, NP or PA sign the final report (electronically signed by …)",
}


def requirements(elements: Mapping[ElementId, ElementResult]) -> list[Requirement]:
    """Map element results onto the four requirements, each with a reason an auditor can act on."""
    out: list[Requirement] = []
    for rid, title, needed in REQUIREMENTS:
        missing = [e for e in needed if not elements[e].satisfied]
        if missing:
            reason = "Not met: " + "; ".join(f"{e} — {_FIX[e]}" for e in missing) + "."
        else:
            reason = "Met: " + " ".join(elements[e].reason for e in needed)
        out.append(Requirement(id=rid, title=title, satisfied=not missing, elements=list(needed), reason=reason))
    return out


def missing_elements(elements: Mapping[ElementId, ElementResult]) -> list[ElementId]:
    """Element ids that are not satisfied, in the canonical order."""
    return [e for e in ELEMENT_IDS if not elements[e].satisfied]


def verdict(elements: Mapping[ElementId, ElementResult]) -> Verdict:
    """``pass`` only when all five elements are satisfied."""
    return "pass" if all(elements[e].satisfied for e in ELEMENT_IDS) else "fail"

#: What each element means, in plain words (``tbs-doccheck explain ELEMENT``).
ELEMENT_DOCS: dict[ElementId, str] = {
    "imaging_source": (
        "The report names the imaging study whose data gave the TBS: DXA/DEXA, dual-energy X-ray absorptiometry, "
        "bone densitometry or a bone density scan (or another modality explicitly given as the TBS source) for the "
        "current exam; the exam title counts. The TBS software's name, or 'images'/'data', is not a modality; a "
        "modality only in a recommendation, a negation, a history or comparison line, a generic definition or "
        "someone else's study does not count."
    ),
    "tbs_value": (
        "The report states a numeric TBS measured on the current study (L1-L4 preferred when several regions are "
        "listed). TBS without a number, 'not calculated', thresholds or reference ranges, a prior study's value and "
        "impossible values (outside 0.500-2.000) do not count."
    ),
    "fracture_risk": (
        "The report assesses this patient's fracture risk: a qualitative statement (high/low/increased fracture risk) "
        "or a quantitative one (TBS-adjusted FRAX 10-year probability of major osteoporotic or hip fracture). A "
        "microarchitecture category alone, boilerplate about what TBS is for, 'not assessed' and 'FRAX not "
        "calculated' do not count."
    ),
    "recommendations": (
        "The report gives at least one recommendation or plan for this patient: treatment, calcium/vitamin D, fall "
        "prevention, repeat DXA/TBS at an interval, referral, clinical correlation. 'None', an empty or placeholder "
        "heading, a recommendation from the past or for someone else do not count."
    ),
    "signature": (
        "The report carries an explicit signing statement (electronically signed by, /s/, signed by, e-signed, "
        "attested by, digitally signed) by a physician (MD, DO, MBBS), NP/APRN or PA, and is final: preliminary, "
        "draft and pending reports, name-only lines, and signatures of technologists, scribes, transcriptionists or "
        "residents alone do not count."
    ),
}
