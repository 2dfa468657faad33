"""Token offsets of a document, computed once per document and shared by every component."""

from spacy.tokens import Doc

_CACHE_KEY = "tbs_doccheck.offsets"

Offsets = tuple[str, list[int], dict[int, int], dict[int, int], str]


def fold_case(text: str) -> str:
    """Lower-case ``text`` without changing its length, so offsets still index the original."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def doc_text(doc: Doc) -> str:
    """``doc.text``, built once per document (spaCy joins every token on each access)."""
    return token_offsets(doc)[0]


def token_offsets(doc: Doc) -> Offsets:
    """``(text, token starts, {token end char: token index}, {token start char: token index}, folded text)``.

    Cached in ``doc.user_data``: tokens never change after the tokenizer, and rebuilding the
    text (``doc.text`` joins every token) in each component was a measurable share of run time.
    """
    cached = doc.user_data.get(_CACHE_KEY)
    if cached is not None and cached[0] == len(doc):
        return cached[1]
    starts = [t.idx for t in doc]
    lengths = [len(t) for t in doc]
    value = (
        doc.text_with_ws,
        starts,
        {s + ln: i for i, (s, ln) in enumerate(zip(starts, lengths, strict=True))},
        {s: i for i, s in enumerate(starts)},
        "",
    )
    value = (*value[:4], fold_case(value[0]))
    doc.user_data[_CACHE_KEY] = (len(doc), value)
    return value
