"""The sample reports and the varied stress set agree with their labels; sample results match the golden files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from paths import DATA, GOLDEN, ROOT

from tbs_doccheck import Checker
from tbs_doccheck.evaluate import evaluate, load_labelled

SAMPLES = ROOT / "sample_reports"
VARIED = DATA / "varied.jsonl"


def _golden_view(result: dict) -> dict:
    """What a golden file pins: verdict, element decisions and evidence, values (not versions)."""
    return {
        "id": result["id"],
        "verdict": result["verdict"],
        "missing": result["missing"],
        "tbs_value": result["tbs_value"],
        "signer": result["signer"],
        "elements": {
            e: {"satisfied": v["satisfied"], "reason": v["reason"],
                "evidence": [(x["text"], x["start"], x["end"], x["rule_id"]) for x in v["evidence"]]}
            for e, v in result["elements"].items()
        },
    }


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.txt")), ids=lambda p: p.stem)
def test_each_sample_report_matches_its_golden_file(checker: Checker, path: Path) -> None:
    got = _golden_view(checker.check_text(path.read_text(encoding="utf-8"), path.stem).model_dump(mode="json"))
    golden = GOLDEN / f"{path.stem}.json"
    if os.environ.get("TBS_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.skip(f"golden file rewritten: {golden.name} (nothing was compared)")
    want = json.loads(golden.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(got)) == want


def test_sample_labels_text_matches_the_files() -> None:
    for lab in load_labelled(SAMPLES / "labels.jsonl"):
        assert (SAMPLES / f"{lab.id}.txt").read_text(encoding="utf-8") == lab.text


STRESS = sorted((DATA / "stress").glob("*.jsonl"))


@pytest.mark.parametrize(
    "labels",
    [SAMPLES / "labels.jsonl", VARIED, *STRESS],
    ids=["sample_reports", "varied", *(f"stress-{p.stem}" for p in STRESS)],
)
def test_labelled_sets_have_no_unflagged_false_pass_and_high_accuracy(checker: Checker, labels: Path) -> None:
    rows = load_labelled(labels)
    rep = evaluate(rows, checker.check_many(r.text for r in rows))
    known = _KNOWN_FALSE_PASSES.get(labels.stem, set())
    passed = {m.id for m in rep.misses if m.what == "verdict" and m.got == "pass"}
    assert passed <= known, sorted(passed - known)
    assert rep.unflagged_false_passes <= len(known - _FLAGGED.get(labels.stem, set()))
    assert rep.verdict_accuracy >= 0.93
    assert rep.tbs_accuracy >= _TBS_FLOOR.get(labels.stem, 0.97)


#: Known misses, as measured, so that any new one fails. Set I (machine exports) has one false pass flagged for
#: review (a structured TBS field the narrative says was carried forward) and misses a CSV/pipe record's TBS
#: column; set L's L033 (a dictated correction moving the value to the prior study) is flagged for review.
#: Set L (the hard cases, mixed; written last) has two unflagged false passes that stay open: a signed addendum
#: that retracts the FRAX (L015) or withdraws the plan (L020) is applied to the TBS only, not to risk or plan.
_KNOWN_FALSE_PASSES = {"I": {"I057"}, "L": {"L015", "L020", "L033"}}
_FLAGGED = {"I": {"I057"}, "L": {"L033"}}
_TBS_FLOOR = {"I": 0.94, "L": 0.9}


def test_the_stress_corpus_is_all_there() -> None:
    assert [p.stem for p in STRESS] == ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"]
    assert sum(len(load_labelled(p)) for p in STRESS) == 840
