"""Character offsets to token spans, robust to offsets that fall on whitespace."""

from bisect import bisect_right

from spacy.tokens import Doc, Span

from tbs_doccheck.checker.speedups.offsets import token_offsets


def char_span(doc: Doc, start: int, end: int, label: str) -> Span | None:
    """The smallest token span covering ``text[start:end]`` (None when it holds no token).

    ``Doc.char_span(alignment_mode="expand")`` returns None when an edge lands inside a
    whitespace token, which report text (tables, aligned columns) makes common.
    """
    text, starts, _, _, _ = token_offsets(doc)
    start, end = max(0, start), min(end, len(text))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    span = doc.char_span(start, end, label=label, alignment_mode="expand")
    if span is not None:
        return span
    first = max(bisect_right(starts, start) - 1, 0)
    last = max(bisect_right(starts, end - 1) - 1, first)
    return Span(doc, first, last + 1, label=label)
