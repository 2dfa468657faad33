"""Scoring: pure functions from element findings to the four CPT 77092 requirements and the verdict."""

from __future__ import annotations

from collections.abc import Mapping

from tbs_doccheck.models import ELEMENT_IDS, ElementId, ElementResult, Requirement, Verdict
from tbs_doccheck.resources import element_catalogue


def requirements(elements: Mapping[ElementId, ElementResult]) -> list[Requirement]:
    """Map element results onto the four requirements, each with a reason an auditor can act on."""
    catalogue = element_catalogue()
    out: list[Requirement] = []
    for req in catalogue.requirements:
        needed = req.elements
        missing = [e for e in needed if not elements[e].satisfied]
        if missing:
            reason = "Not met: " + "; ".join(f"{e} — {catalogue.entry(e).to_fix}" for e in missing) + "."
        else:
            reason = "Met: " + " ".join(elements[e].reason for e in needed)
        out.append(Requirement(id=req.id, title=req.title, satisfied=not missing, elements=list(needed), reason=reason))
    return out


def missing_elements(elements: Mapping[ElementId, ElementResult]) -> list[ElementId]:
    """Element ids that are not satisfied, in the canonical order."""
    return [e for e in ELEMENT_IDS if not elements[e].satisfied]


def verdict(elements: Mapping[ElementId, ElementResult]) -> Verdict:
    """``pass`` only when all five elements are satisfied."""
    return "pass" if all(elements[e].satisfied for e in ELEMENT_IDS) else "fail"
