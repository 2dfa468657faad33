"""Token offsets of a document, computed once per document and shared by every component."""

import _sre  # the engine behind ``re``: its own case mapping, so folding agrees with re.IGNORECASE
from re._casefix import _EXTRA_CASES

from spacy.tokens import Doc

_CACHE_KEY = "tbs_doccheck.offsets"

Offsets = tuple[str, list[int], dict[int, int], dict[int, int], str]


def fold_char(char: str) -> str:
    """The one character ``re.IGNORECASE`` treats ``char`` as: its simple lower case, then one of its
    equivalents chosen for all (``"ſ"`` and ``"s"``, ``"İ"`` and ``"i"``), so matching folded text with a
    folded pattern finds what the case-insensitive pattern finds, at the same offsets."""
    low = _sre.unicode_tolower(ord(char))
    return chr(min((low, *_EXTRA_CASES.get(low, ()))))


class _FoldTable(dict):
    def __missing__(self, code: int) -> str:
        self[code] = folded = fold_char(chr(code))
        return folded


_FOLD = _FoldTable()


def fold_case(text: str) -> str:
    """Case-fold ``text`` one character for one character (see :func:`fold_char`), so offsets still index it."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


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
    return remember_offsets(doc, doc.text_with_ws, [t.idx for t in doc], [len(t) for t in doc])


def remember_offsets(doc: Doc, text: str, starts: list[int], lengths: list[int]) -> Offsets:
    """Cache a document's offsets from what its tokenizer already knows (the text, token starts and lengths).

    Args:
        doc: The document, as the tokenizer made it.
        text: Its text, exactly ``doc.text``.
        starts: Each token's start offset.
        lengths: Each token's length.

    Returns:
        The offsets :func:`token_offsets` will return for ``doc``.
    """
    value = (
        text,
        starts,
        {s + ln: i for i, (s, ln) in enumerate(zip(starts, lengths, strict=True))},
        {s: i for i, s in enumerate(starts)},
        fold_case(text),
    )
    doc.user_data[_CACHE_KEY] = (len(doc), value)
    return value
