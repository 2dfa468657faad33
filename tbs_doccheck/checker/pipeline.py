"""Builds the one spaCy ``Language`` the checker runs: blank English, medspaCy components and our own."""

from __future__ import annotations

import logging
import warnings

import spacy
from medspacy.context import ConText, ConTextRule
from medspacy.section_detection import Sectionizer, SectionRule
from medspacy.target_matcher import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Doc

# Importing a component module registers its factory with spaCy.
from tbs_doccheck.checker.components import context as _context  # noqa: F401
from tbs_doccheck.checker.components import sectionizer as _sectionizer  # noqa: F401
from tbs_doccheck.checker.components import sentences as _sentences  # noqa: F401
from tbs_doccheck.checker.components.schema import SIGNATURE_GROUP, STATUS_GROUP, TARGET_GROUP
from tbs_doccheck.checker.components.signature import SignatureFinder
from tbs_doccheck.checker.components.tbs_value import TbsValueFinder
from tbs_doccheck.checker.components.tokenizer import GuardedTokenizer
from tbs_doccheck.checker.patterns import PatternSet, load_patterns
from tbs_doccheck.checker.speedups.fast_regex import speed_up


def _silence_loguru() -> None:
    # medspaCy's PyRuSH logs every document through loguru at DEBUG; report text must never
    # reach a log, so medspaCy's loguru output is switched off even though PyRuSH isn't used.
    try:
        from loguru import logger

        logger.disable("PyRuSH")
        logger.disable("medspacy")
    except ImportError:  # pragma: no cover - loguru comes with medspaCy
        pass
    logging.getLogger("medspacy").setLevel(logging.WARNING)


def build_nlp(patterns: PatternSet | None = None, patterns_dir: str | None = None, *,
              fast_regex: bool = True) -> Language:
    """Build the checker's pipeline.

    Args:
        patterns: A loaded pattern set; loaded from ``patterns_dir`` (or the shipped set) when None.
        patterns_dir: Folder of pattern files to use instead of the shipped ones.
        fast_regex: Swap medspaCy's regex matchers for :class:`FastRegexMatcher` and its ConText graph
            for :class:`FastConTextGraph` (same results, measured in the tests); False gives stock medspaCy.

    Returns:
        ``spacy.blank("en")`` with: the line-aware sentence splitter, medspaCy's Sectionizer,
        TargetMatcher (into the ``tbs_targets`` span group), the TBS value finder, medspaCy's
        ConText over that group, and the signature reader.
    """
    _silence_loguru()
    # medspaCy always builds a token Matcher; ours are all regex rules, so it warns (W036) per document.
    warnings.filterwarnings("ignore", message=r"\[W036\]")
    pset = patterns or load_patterns(patterns_dir)
    nlp = spacy.blank("en")
    nlp.tokenizer = GuardedTokenizer(nlp.tokenizer, nlp.vocab)
    nlp.add_pipe("tbs_line_sentencizer")

    sectionizer: Sectionizer = nlp.add_pipe(
        "tbs_sectionizer" if fast_regex else "medspacy_sectionizer",
        config={"rules": None, "span_attrs": None, "input_span_type": "group", "span_group_name": TARGET_GROUP}
    )
    sectionizer.add([SectionRule(**_medspacy_kwargs(r)) for r in pset.sections])

    # Passing rules through add_pipe's config crashes in medspaCy 1.3.1: add them afterwards.
    matcher: TargetMatcher = nlp.add_pipe(
        "medspacy_target_matcher",
        config={"result_type": "group", "span_group_name": TARGET_GROUP, "prune": False},
    )
    matcher.add([TargetRule(**_medspacy_kwargs(r)) for r in pset.targets])

    values: TbsValueFinder = nlp.add_pipe("tbs_value", config={"span_group": TARGET_GROUP})
    values.add(pset.tbs_value)

    context: ConText = nlp.add_pipe(
        "tbs_context" if fast_regex else "medspacy_context",
        config={"rules": None, "input_span_type": "group", "span_group_name": TARGET_GROUP, "span_attrs": None},
    )
    context.add([ConTextRule(**_medspacy_kwargs(r)) for r in pset.context])

    signatures: SignatureFinder = nlp.add_pipe(
        "tbs_signature", config={"span_group": SIGNATURE_GROUP, "status_group": STATUS_GROUP}
    )
    signatures.add(pset.signature)
    if fast_regex:
        for component in (sectionizer, matcher, context):
            speed_up(component)
    return nlp


def _medspacy_kwargs(rule) -> dict:
    data = rule.model_dump(exclude_none=True)
    # medspaCy keeps metadata as a plain dict; the id travels with every match.
    data["metadata"] = rule.metadata.model_dump(exclude_none=True)
    for key in ("allowed_types", "excluded_types"):
        if key in data:
            data[key] = set(data[key])
    return data


def release(doc: Doc) -> None:
    """Drop what the pipeline attached to ``doc`` once its findings have been read.

    ConText's graph and the sectionizer's sections live in ``doc.user_data`` and hold spans, which hold
    the doc: a reference cycle, so every doc would wait for Python's cyclic garbage collector, and
    memory would pile up between its (ever rarer) full collections. Without the cycle a doc is freed
    the moment it is dropped.
    """
    doc.user_data.clear()
