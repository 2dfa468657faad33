"""Evaluation against a labelled set: per-element precision/recall/F1, verdict accuracy, false passes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tbs_doccheck.models import ELEMENT_IDS, CheckResult, ElementId, Signer


class LabelledReport(BaseModel):
    """One line of a labelled set (the ``elements.md`` format)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    text: str
    elements: dict[ElementId, bool]
    tbs: float | None = None
    signer: Signer | None = None
    verdict: str
    tags: list[str] = Field(default_factory=list)
    why: str = ""


class LabelledSetError(ValueError):
    """A labelled set line is not valid JSON or misses a field. Code ``L001``."""


def load_labelled(path: str | Path) -> list[LabelledReport]:
    """Read a labelled JSON Lines file.

    Raises:
        LabelledSetError: naming the file, the line and what was expected.
    """
    rows: list[LabelledReport] = []
    p = Path(path)
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(LabelledReport.model_validate(json.loads(line)))
            except json.JSONDecodeError as exc:
                raise LabelledSetError(f"L001-invalid-labels: {p}:{n}: expected a JSON object, got invalid JSON "
                                       f"({exc.msg})") from exc
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(x) for x in err["loc"])
                raise LabelledSetError(f"L001-invalid-labels: {p}:{n}: field {loc}: {err['msg']}") from exc
    return rows


class ElementScore(BaseModel):
    """Counts and rates for one element (positive = satisfied)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0


class Miss(BaseModel):
    """One disagreement between the checker and a label."""

    id: str
    what: str
    expected: str
    got: str


class EvalReport(BaseModel):
    """Everything ``tbs-doccheck eval`` prints."""

    n: int
    verdict_accuracy: float
    false_passes: int
    unflagged_false_passes: int = Field(description="False passes not flagged needs_review: these reach a payer unseen")
    false_fails: int
    needs_review: int = Field(description="Results flagged needs_review")
    review_rate: float
    tbs_exact: int = Field(description="Reports labelled with a TBS whose value was read exactly")
    tbs_labelled: int
    labelled_fail: int
    tbs_accuracy: float
    signer_accuracy: float
    elements: dict[ElementId, ElementScore]
    misses: list[Miss]


def _rate(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def evaluate(labels: Iterable[LabelledReport], results: Iterable[CheckResult]) -> EvalReport:
    """Compare results with labels, pairwise in order."""
    scores = {e: ElementScore() for e in ELEMENT_IDS}
    misses: list[Miss] = []
    n = right = fpass = unflagged = ffail = nfail = tbs_ok = signer_ok = review = tbs_exact = tbs_labelled = 0
    for lab, res in zip(labels, results, strict=True):
        n += 1
        nfail += lab.verdict == "fail"
        if res.verdict == lab.verdict:
            right += 1
        else:
            misses.append(Miss(id=lab.id, what="verdict", expected=lab.verdict, got=res.verdict))
            fpass += res.verdict == "pass" and lab.verdict == "fail"
            unflagged += res.verdict == "pass" and lab.verdict == "fail" and not res.needs_review
            ffail += res.verdict != "pass" and lab.verdict == "pass"
        for e in ELEMENT_IDS:
            got = bool(res.elements and res.elements[e].satisfied)
            want = lab.elements[e]
            s = scores[e]
            if got and want:
                s.tp += 1
            elif got:
                s.fp += 1
            elif want:
                s.fn += 1
            else:
                s.tn += 1
            if got != want:
                misses.append(Miss(id=lab.id, what=e, expected=str(want).lower(), got=str(got).lower()))
        review += res.needs_review
        if lab.tbs is not None:
            tbs_labelled += 1
            tbs_exact += res.tbs_value == lab.tbs
        if res.tbs_value == lab.tbs:
            tbs_ok += 1
        else:
            misses.append(Miss(id=lab.id, what="tbs", expected=str(lab.tbs), got=str(res.tbs_value)))
        if res.signer == lab.signer:
            signer_ok += 1
        else:
            misses.append(Miss(id=lab.id, what="signer", expected=str(lab.signer and lab.signer.model_dump()),
                               got=str(res.signer and res.signer.model_dump())))
    for s in scores.values():
        s.precision = _rate(s.tp, s.tp + s.fp)
        s.recall = _rate(s.tp, s.tp + s.fn)
        s.f1 = round(2 * s.precision * s.recall / (s.precision + s.recall), 4) if s.precision + s.recall else 0.0
    return EvalReport(n=n, verdict_accuracy=_rate(right, n), false_passes=fpass, unflagged_false_passes=unflagged,
                      false_fails=ffail, labelled_fail=nfail, needs_review=review, review_rate=_rate(review, n),
                      tbs_exact=tbs_exact, tbs_labelled=tbs_labelled, tbs_accuracy=_rate(tbs_ok, n),
                      signer_accuracy=_rate(signer_ok, n), elements=scores, misses=misses)


def render_eval(rep: EvalReport) -> str:
    """The evaluation as an aligned text table (misses first, summary last)."""
    lines = []
    if rep.misses:
        lines.append("misses:")
        lines += [f"  {m.id:10} {m.what:16} expected {m.expected:8} got {m.got}" for m in rep.misses]
        lines.append("")
    lines.append(f"{'element':16} {'P':>6} {'R':>6} {'F1':>6}   tp  fp  fn  tn")
    for e, s in rep.elements.items():
        lines.append(f"{e:16} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}  {s.tp:3} {s.fp:3} {s.fn:3} {s.tn:3}")
    lines.append("")
    lines.append(f"reports            {rep.n}")
    lines.append(f"verdict accuracy   {rep.verdict_accuracy:.3f}")
    lines.append(f"false passes       {rep.false_passes} (of {rep.labelled_fail} labelled fail)")
    lines.append(f"  not flagged      {rep.unflagged_false_passes} (reach a payer without a review)")
    lines.append(f"false fails        {rep.false_fails}")
    lines.append(f"needs review       {rep.needs_review} (review rate {rep.review_rate:.3f})")
    lines.append(f"TBS value accuracy {rep.tbs_accuracy:.3f}")
    lines.append(f"TBS exact          {rep.tbs_exact}/{rep.tbs_labelled}")
    lines.append(f"signer accuracy    {rep.signer_accuracy:.3f}")
    return "\n".join(lines) + "\n"
