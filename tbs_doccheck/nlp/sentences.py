"""A line-aware sentence splitter: report lines end sentences unless a sentence was hard-wrapped."""


import re

from spacy.language import Language
from spacy.tokens import Doc

# A line that ends on one of these words was wrapped mid-phrase ("high risk of\nfracture").
_CONTINUATION_WORDS = frozenset(
    """of by and or the a an with w/ w/o to for in at on is are was were which that from as than be been
    her his their its this these those into per via after before plus including whose who if when while
    very high low increased elevated moderate""".split()
)
_ABBREVIATIONS = frozenset(
    "dr mr mrs ms st vs e.g i.e approx no nos fig dept jr sr prof ca wt ht pt pts hx dx tx rx yo y.o etc inc".split()
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


class LineSentencizer:
    """Sets sentence starts from line structure and sentence punctuation.

    spaCy's ``sentencizer`` ignores newlines, so ConText scope would leak from one report line
    into the next; PyRuSH is accurate but slow. This splitter ends a sentence at every line break
    except where a sentence was visibly hard-wrapped, and at ``. ! ?`` inside a line.
    """

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        prev = None  # previous non-space token
        for tok in doc:
            if tok.i == 0:
                tok.is_sent_start = True
                if not tok.is_space:
                    prev = tok
                continue
            if tok.is_space:
                tok.is_sent_start = False
                continue
            start = False
            if prev is not None:
                gap = text[prev.idx + len(prev.text) : tok.idx]
                breaks = gap.count("\n")
                if breaks >= 2:
                    start = True
                elif breaks == 1:
                    ls, _ = _line_bounds(text, prev.idx)
                    _, le = _line_bounds(text, tok.idx)
                    start = not wrapped(text[ls : prev.idx + len(prev.text)], text[tok.idx : le])
                elif prev.text in {".", "!", "?"} and (tok.text[:1].isupper() or tok.text[:1].isdigit()):
                    before = doc[prev.i - 1].text.lower() if prev.i > 0 else ""
                    start = before not in _ABBREVIATIONS and not (len(before) == 1 and before.isalpha())
            tok.is_sent_start = start
            prev = tok
        return doc


@Language.factory("tbs_line_sentencizer")
def make_line_sentencizer(nlp: Language, name: str) -> LineSentencizer:
    """Build the line-aware sentence splitter."""
    return LineSentencizer()
