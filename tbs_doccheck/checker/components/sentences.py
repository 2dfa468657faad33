"""A line-aware sentence splitter: report lines end sentences unless a sentence was hard-wrapped."""


import re

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from tbs_doccheck.checker.speedups.offsets import token_offsets

# A line that ends on one of these words was wrapped mid-phrase ("high risk of\nfracture").
_CONTINUATION_WORDS = frozenset(
    ["of", "by", "and", "or", "the", "a", "an", "with", "w/", "w/o", "to", "for", "in", "at", "on", "is", "are", "was",
     "were", "which", "that", "from", "as", "than", "be", "been", "her", "his", "their", "its", "this", "these",
     "those", "into", "per", "via", "after", "before", "plus", "including", "whose", "who", "if", "when", "while",
     "very", "high", "low", "increased", "elevated", "moderate"]
)
_ABBREVIATIONS = frozenset(
    ["dr", "mr", "mrs", "ms", "st", "vs", "e.g", "i.e", "approx", "no", "nos", "fig", "dept", "jr", "sr", "prof", "ca",
     "wt", "ht", "pt", "pts", "hx", "dx", "tx", "rx", "yo", "y.o", "etc", "inc"]
)
_BULLET = re.compile(r"^(?:[-*•·#>]\s|\d{1,2}[.)]\s|[a-z][.)]\s|\(\d{1,2}\)\s)")
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9 /&()'.-]{0,40}:")
_ENDS_SENTENCE = ".!?:"


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end == -1 else end


def wrapped(prev_line: str, next_line: str) -> bool:
    """Whether ``next_line`` continues a sentence that ``prev_line`` started."""
    prev = prev_line.rstrip()
    nxt = next_line.lstrip()
    if not prev or not nxt or prev[-1] in _ENDS_SENTENCE:
        return False
    if _BULLET.match(nxt) or _LABEL.match(nxt):
        return False
    last_word = prev.split()[-1].lower()
    if last_word in _CONTINUATION_WORDS or prev[-1] in ",-–/(":
        return True
    if nxt[0].islower():
        return True
    # "TBS L1-L4\n1.203 which is degraded": a long line breaking before a number.
    return bool(len(prev) >= 30 and prev[-1].isalnum() and re.match(r"-?\d", nxt) and " " in nxt.strip())


_NEWLINE_RUN = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)*")
_PUNCT_BREAK = re.compile(r"[.!?][^\S\n]+(?=[A-Z0-9])")


#: No sentence in a report is this long; capping bounds ConText scopes on pathological input
#: (a 1 MB report without a full stop) so that work stays linear in the report's length.
MAX_SENTENCE_TOKENS = 150


def _cap_sentences(flags: numpy.ndarray, n: int) -> None:
    starts = numpy.flatnonzero(flags[:, 0] == 1).tolist() + [n]
    for begin, end in zip(starts, starts[1:], strict=False):
        for cut in range(begin + MAX_SENTENCE_TOKENS, end, MAX_SENTENCE_TOKENS):
            flags[cut, 0] = 1


class LineSentencizer:
    """Sets sentence starts from line structure and sentence punctuation.

    spaCy's ``sentencizer`` ignores newlines, so ConText scope would leak from one report line
    into the next; PyRuSH is accurate but slow. This splitter ends a sentence at every line break
    except where a sentence was visibly hard-wrapped, and at ``. ! ?`` inside a line. It scans the
    text for the few candidate boundaries instead of visiting every token.
    """

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        text, starts, _, start_index, _ = token_offsets(doc)
        flags = numpy.full((n, 1), -1, dtype="int64")
        flags[0, 0] = 1
        for m in _NEWLINE_RUN.finditer(text):
            tok = start_index.get(m.end())
            if tok is None or tok == 0:
                continue
            if m.group(0).count("\n") >= 2:
                flags[tok, 0] = 1
                continue
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end())
            if not wrapped(text[line_start : m.start()], text[m.end() : len(text) if line_end == -1 else line_end]):
                flags[tok, 0] = 1
        for m in _PUNCT_BREAK.finditer(text):
            dot = m.start()
            tok = start_index.get(m.end())
            if tok is None or dot not in start_index or not (dot + 1 in start_index or text[dot + 1].isspace()):
                continue  # the mark is part of a longer token ("Dr.", "1.2.")
            word_start = max(text.rfind(" ", 0, dot), text.rfind("\n", 0, dot), text.rfind("\t", 0, dot)) + 1
            before = text[word_start:dot].lower()
            if before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                continue
            if before.isdigit() and text[text.rfind("\n", 0, dot) + 1 : word_start].strip() == "":
                continue  # "1. Osteopenia": a list number, not a sentence end
            flags[tok, 0] = 1
        _cap_sentences(flags, n)
        doc.from_array([SENT_START], flags.astype("uint64"))
        return doc


@Language.factory("tbs_line_sentencizer", assigns=["token.is_sent_start"])
def make_line_sentencizer(nlp: Language, name: str) -> LineSentencizer:
    """Build the line-aware sentence splitter."""
    return LineSentencizer()
