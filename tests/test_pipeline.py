"""The pipeline's own parts: the fast regex matcher and the sentence splitter keep medspaCy's results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from tbs_doccheck.nlp import build_nlp
from tbs_doccheck.nlp.fast_regex import FastRegexMatcher, fold_pattern
from tbs_doccheck.nlp.sentences import LineSentencizer

DATA = Path(__file__).resolve().parent / "data" / "varied.jsonl"


def _texts() -> list[str]:
    return [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def _signature(doc) -> tuple:
    targets = [(s.label_, s.start, s.end, tuple(sorted(m.category for m in s._.modifiers)))
               for s in doc.spans["tbs_targets"]]
    sections = [(s.category, s.section_span) for s in doc._.sections]
    return targets, sections, [s.start for s in doc.sents]


def test_the_fast_regex_matcher_finds_exactly_what_medspacy_finds() -> None:
    fast, plain = build_nlp(), build_nlp(fast_regex=False)
    swapped = [type(m) for m in (fast.get_pipe("medspacy_target_matcher")._TargetMatcher__matcher._MedspacyMatcher__regex_matcher,)]
    assert swapped == [FastRegexMatcher]
    for text in _texts():
        assert _signature(fast(text)) == _signature(plain(text))


@pytest.mark.parametrize(
    ("pattern", "folded"),
    [(r"\bDXA\b", r"\bdxa\b"), (r"\S+\B[A-Z]", r"\S+\B[a-z]"), (r"(?m)^Plan:", r"(?m)^plan:")],
)
def test_folding_a_pattern_lowercases_literals_but_not_escapes(pattern: str, folded: str) -> None:
    assert fold_pattern(pattern) == folded


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("Impression: high risk of\nfracture given TBS.\nPlan: calcium.", ["Impression", "Plan"]),
        ("No prior fracture.\nFRAX MOF 12%.", ["No", "FRAX"]),
        ("Findings: fem neck -2.0, tot hip -1.6. TBS L1-L4\n1.203 which is degraded.\nNext: x", ["Findings", "TBS", "Next"]),
        ("IMPRESSION:\n1. Osteopenia.\n2. Degraded TBS.", ["IMPRESSION", "1", "2"]),
        ("Seen by Dr. Park today. She agrees.", ["Seen", "She"]),
        ("Table\nL1-L2   1.18\nL1-L4   1.22", ["Table", "L1", "L1"]),
    ],
    ids=["wrapped-phrase", "negation-stays-on-its-line", "value-on-next-line", "numbered-list", "abbreviation", "table-rows"],
)
def test_sentences_follow_report_lines_but_keep_wrapped_sentences_whole(text: str, starts: list[str]) -> None:
    doc = LineSentencizer()(spacy.blank("en").make_doc(text))
    assert [s[0].text for s in doc.sents if not s[0].is_space] == starts


@pytest.mark.parametrize("seed", range(5))
def test_linear_pruning_keeps_exactly_what_medspacy_keeps(seed: int) -> None:
    import random

    from medspacy.common.util import prune_overlapping_matches

    from tbs_doccheck.nlp.fast_regex import prune_longest

    rng = random.Random(seed)
    matches = []
    for _ in range(300):
        start = rng.randrange(0, 200)
        matches.append((rng.randrange(5), start, start + rng.randrange(1, 6)))
    assert prune_longest(list(matches)) == prune_overlapping_matches(list(matches))


def test_long_runs_without_spaces_keep_the_text_and_stay_fast() -> None:
    nlp = build_nlp()
    text = "Scanner: DXA " + "_" * 5000 + " TBS L1-L4: 1.241\n" + "=" * 300
    doc = nlp(text)
    assert doc.text == text
    assert max(len(t) for t in doc) <= 64
