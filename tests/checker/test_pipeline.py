"""The pipeline's own parts: the fast regex matcher and the sentence splitter keep medspaCy's results."""

from __future__ import annotations

import json

import pytest
import spacy
from paths import DATA, SAMPLES

from tbs_doccheck.checker.components.sentences import LineSentencizer
from tbs_doccheck.checker.pipeline import build_nlp
from tbs_doccheck.checker.speedups.fast_regex import FastRegexMatcher, fold_pattern

VARIED = DATA / "varied.jsonl"


def _texts() -> list[str]:
    return [json.loads(line)["text"] for line in VARIED.read_text(encoding="utf-8").splitlines() if line.strip()]


def _signature(doc) -> tuple:
    targets = [(s.label_, s.start, s.end, tuple(sorted(m.category for m in s._.modifiers)))
               for s in doc.spans["tbs_targets"]]
    sections = [(s.category, s.section_span) for s in doc._.sections]
    return targets, sections, [s.start for s in doc.sents]


def test_the_fast_regex_matcher_finds_exactly_what_medspacy_finds() -> None:
    fast, plain = build_nlp(), build_nlp(fast_regex=False)
    matcher = fast.get_pipe("medspacy_target_matcher")._TargetMatcher__matcher
    swapped = [type(m) for m in (matcher._MedspacyMatcher__regex_matcher,)]
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
        ("Findings: fem neck -2.0, tot hip -1.6. TBS L1-L4\n1.203 which is degraded.\n"
         "Next: x", ["Findings", "TBS", "Next"]),
        ("IMPRESSION:\n1. Osteopenia.\n2. Degraded TBS.", ["IMPRESSION", "1", "2"]),
        ("Seen by Dr. Park today. She agrees.", ["Seen", "She"]),
        ("Table\nL1-L2   1.18\nL1-L4   1.22", ["Table", "L1", "L1"]),
    ],
    ids=["wrapped-phrase", "negation-stays-on-its-line", "value-on-next-line", "numbered-list", "abbreviation",
         "table-rows"],
)
def test_sentences_follow_report_lines_but_keep_wrapped_sentences_whole(text: str, starts: list[str]) -> None:
    doc = LineSentencizer()(spacy.blank("en").make_doc(text))
    assert [s[0].text for s in doc.sents if not s[0].is_space] == starts


@pytest.mark.parametrize("seed", range(5))
def test_linear_pruning_keeps_exactly_what_medspacy_keeps(seed: int) -> None:
    import random

    from medspacy.common.util import prune_overlapping_matches

    from tbs_doccheck.checker.speedups.fast_regex import prune_longest

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


def _spacy_tokens(doc) -> list[tuple[str, str, str, int]]:
    return [(t.text, t.whitespace_, t.norm_, t.idx) for t in doc]


def _special_heavy_strings(seed: int, count: int) -> list[str]:
    import random

    rng = random.Random(seed)
    pieces = list("ab .,:;()[]-/\n\t\xa0'\"!?*_=<>3D") + [
        "Dr.", "a.m.", ":)", "e.g.", "n't", "'s", "  ", "\r\n", "1.2", "U.S.", "(:", ":-)", "<3", "''", "--",
        "Jan.", "vs.", "can't", "TBS", "1.226)", "\u2014", "x", "10a.m.", ":p", "o.O", "xD",
    ]
    return ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 60))) for _ in range(count)]


def test_the_memoised_tokenizer_gives_exactly_spacys_tokens_and_norms() -> None:
    from tbs_doccheck.checker.components.tokenizer import MAX_RUN, GuardedTokenizer

    reference = spacy.blank("en").tokenizer
    nlp = spacy.blank("en")
    ours = GuardedTokenizer(nlp.tokenizer, nlp.vocab)
    samples = sorted(SAMPLES.glob("*.txt"))
    texts = _texts() + [p.read_text(encoding="utf-8") for p in samples] + _special_heavy_strings(0, 3000)
    texts = [t for t in texts if max(map(len, t.split()), default=0) <= MAX_RUN]  # longer runs are cut on purpose
    assert len(texts) > 3000
    for text in texts * 2:  # the second pass is served from the memo
        assert _spacy_tokens(ours(text)) == _spacy_tokens(reference(text)), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        ";*   ,a.m.U.S.Dr.: (:(:)(:e.g.'>:)e.g.>>;>_<3vs.a,-",
        ")(: =]U.S.' ''3can't.TBS:-)\t?__'s1.226)(:1.226)",
    ],
    ids=["emoticon-across-a-space", "quotes-across-a-space"],
)
def test_a_special_case_straddling_a_space_is_tokenized_by_spacy_whole(text: str) -> None:
    """Tokenizing these chunk by chunk differs from spaCy: a phrase like this must go to spaCy whole."""
    from tbs_doccheck.checker.components.tokenizer import GuardedTokenizer

    reference = spacy.blank("en").tokenizer
    nlp = spacy.blank("en")
    ours = GuardedTokenizer(nlp.tokenizer, nlp.vocab)
    naive = [t.text for chunk in text.split(" ") for t in reference(chunk)]
    assert naive != [t.text for t in reference(text) if t.text != " "]
    assert _spacy_tokens(ours(text)) == _spacy_tokens(reference(text))


def test_modifier_scopes_from_sentence_starts_equal_medspacys_own() -> None:
    from medspacy.context.context_modifier import ConTextModifier

    from tbs_doccheck.checker.components.context import _sentence_scope, _sentence_starts

    nlp = build_nlp()
    context = nlp.get_pipe("tbs_context")
    matcher = context._ConText__matcher
    compared = 0
    for doc in nlp.pipe(_texts()[:40]):
        starts = _sentence_starts(doc)
        for match_id, start, end in matcher(doc):
            rule = matcher.rule_map[nlp.vocab[match_id].text]
            expected = ConTextModifier(rule, start, end, doc).scope_span
            assert _sentence_scope(rule, start, end, starts, len(doc)) == expected
            compared += 1
    assert compared > 200


@pytest.mark.parametrize(
    ("pattern", "scan"),
    [
        (r"\b(?:hip|mof)\b", r"[hm](?<=(?=(\b(?:hip|mof)\b))(?s:.))"),
        (r"(?m)(?:a|b)x|cy", r"(?m)[abc](?<=(?=((?:a|b)x|cy))(?s:.))"),
        (r"(?m)^[ \t]*plan:", r"(?m)[\U00000009\U00000020p](?<=(?=(^[ \t]*plan:))(?s:.))"),
        (r"(?<![\d/])(?:0?[1-9]/)?20\d\d", r"[01-92](?<=(?=((?<![\d/])(?:0?[1-9]/)?20\d\d))(?s:.))"),
        (r"(?:a|)b", r"[ab](?<=(?=((?:a|)b))(?s:.))"),
        (r"tbs\b", None),  # opens with a literal: re already skips ahead by itself
        (r"(?:tbs|frax)\b", None),  # so do alternatives that each open with a literal
        (r"/s/\s*\w", None),
        (r"\b\w+ly\b", None),  # can start with any word character
        (r"\b(?:a|b)?", None),  # can match the empty string
        (r"(?i)tbs", None),  # case-insensitive: the set would have to hold both cases
        (r"\b(a)\s+\1\b", None),  # refers back to its own group, whose number would change
    ],
    ids=["word-alternatives", "global-flag-stays-first", "multiline-anchor", "optional-prefix", "empty-alternative",
         "literal-start", "literal-alternatives", "literal-slash", "category", "may-match-empty",
         "case-insensitive", "backreference"],
)
def test_the_charset_scan_form_opens_with_the_characters_a_match_can_start_with(pattern: str, scan: str | None) -> None:
    from tbs_doccheck.checker.speedups.fast_regex import charset_scan

    assert charset_scan(pattern) == scan


@pytest.mark.parametrize(
    ("pattern", "scan"),
    [
        (r"(?m)^[ \t]*plan:", r"(?m)\n(?=(^[ \t]*plan:))"),
        (r"^plan:", None),  # not multi-line: it matches only at the very start
        (r"(?m)^plan:|notes:", None),  # only one alternative is anchored
        (r"(?m)^\s*", None),  # can match the empty string
    ],
    ids=["anchored", "single-line", "partly-anchored", "may-match-empty"],
)
def test_the_line_scan_form_looks_for_line_breaks_only_when_every_match_starts_a_line(
    pattern: str, scan: str | None
) -> None:
    from tbs_doccheck.checker.speedups.fast_regex import line_scan

    assert line_scan(pattern) == scan


def test_a_pattern_whose_scan_form_would_not_compile_is_used_as_it_is() -> None:
    from tbs_doccheck.checker.speedups.fast_regex import Scanner, scan_form

    pattern = r"(?m)(?s)^plan:.x"  # the second flag group cannot move inside the lookahead

    assert scan_form(pattern, 0) == (None, None)
    assert [m.span() for m in Scanner(pattern, 0).finditer("a\nplan:\nx")] == [(2, 9)]


def test_rule_patterns_in_their_scan_forms_find_the_same_spans_and_matches_as_the_originals() -> None:
    import re

    from tbs_doccheck.checker.patterns import load_patterns
    from tbs_doccheck.checker.speedups.fast_regex import Scanner, _scan_spans, scan_form

    pset = load_patterns()
    patterns = [fold_pattern(r.pattern) for group in (pset.sections, pset.targets, pset.context)
                for r in group if isinstance(r.pattern, str)]
    texts = [t.lower() for t in _texts()] + _special_heavy_strings(1, 200) + [
        "", "\n\n", "hip\nhip hip", "impression:\nimpression: x\n\nplan:\n", "plan: a\nplan: b"]
    forms = {"line": 0, "charset": 0}
    for pattern in patterns:
        scan, head = scan_form(pattern, 0)
        if scan is None:
            continue
        forms["line" if head is not None else "charset"] += 1
        original = re.compile(pattern)
        for text in texts:
            assert list(_scan_spans(scan, text, head)) == [m.span() for m in original.finditer(text)], pattern
    assert forms["line"] >= 10 and sum(forms.values()) >= len(patterns) * 3 // 4
    # The whole-text scanner gives the very matches finditer gives, groups included.
    dates = Scanner(pset.elements.full_date.pattern)
    for text in texts:
        assert [(m.span(), m.groups()) for m in dates.finditer(text)] == \
            [(m.span(), m.groups()) for m in re.compile(pset.elements.full_date.pattern, re.IGNORECASE).finditer(text)]
