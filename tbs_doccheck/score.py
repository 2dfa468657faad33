"""Scoring: pure functions from element findings to the four CPT 77092 requirements and the verdict."""

from __future__ import annotations

from collections.abc import Mapping

from .models import ELEMENT_IDS, ElementId, ElementResult, Requirement, Verdict

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
