"""spaCy's English tokenizer, guarded against long runs without spaces and memoised per whitespace chunk."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate
from operator import add

from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.vocab import Vocab

from tbs_doccheck.checker.speedups.offsets import remember_offsets

#: Runs of non-space characters longer than this are cut into pieces of this size.
MAX_RUN = 64
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN + 1},}}")
# A phrase is words joined by single spaces; any other whitespace is a token of its own, and no special
# case spans one, so phrases tokenize independently.
_PIECES = re.compile(r"\S+(?: \S+)*|\s+")

#: Chunks per generation of the memo (two generations are kept): a few MB at most, however many reports
#: pass, since every new number, name and date is a new chunk; the words in use carry over.
CACHE_SIZE = 10_000

# One chunk's tokens: their texts, their trailing-space flags, (index, norm) where a special case set a
# norm other than the lexeme's own, and their lengths.
_Entry = tuple[tuple[str, ...], tuple[bool, ...], tuple[tuple[int, str], ...], tuple[int, ...]]
#: The entry of a chunk that is one token with its lexeme's own norm (most are): shared, so the memo
#: holds little more than its keys.
_WHOLE: _Entry = ((), (), (), ())


class GuardedTokenizer:
    """Tokenizes exactly like spaCy's English tokenizer, except inside very long non-space runs.

    Two things differ from calling ``base`` directly, neither of them in the tokens produced for
    ordinary text:

    * Speed. spaCy's tokenizer splits the text at whitespace into chunks and memoises each chunk's
      tokens, but stops memoising for the rest of a document once any special case has matched, and
      ``"\\n"`` is a special case. So in a multi-line report almost every chunk went through the prefix,
      suffix and infix regexes again, on every report. Here each chunk is tokenized by ``base`` once,
      alone, and remembered. That gives the same tokens because spaCy's tokens never cross whitespace,
      with one exception: its special-case matcher runs over the whole token sequence, and a match
      straddling a single space (``": )"``) is discarded but can shadow a special case next to it. A
      phrase (words joined by single spaces) with such a pair of chunk edges (see
      :func:`_straddling_pairs`, taken from the tokenizer's own rules) is tokenized by ``base`` whole.
    * Long runs. spaCy splits punctuation off a token one character at a time and rescans what is left,
      so a 20,000-character run of underscores took a minute. Reports never hold words that long; such
      runs (rules of ``_____``, base64, garbage) are cut into fixed-size tokens instead.

    The text is never changed, so every character offset still indexes the original report.
    """

    def __init__(self, base: Tokenizer, vocab: Vocab) -> None:
        self.base = base
        self.vocab = vocab
        self._cache: dict[str, _Entry] = {}
        self._older: dict[str, _Entry] = {}
        # Indexed by (last character of x, first character of y): one dict lookup per space.
        self._pairs_by_edge: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        for x, y in sorted(_straddling_pairs(base, vocab)):
            edge = (x[-1], y[0])
            self._pairs_by_edge[edge] = (*self._pairs_by_edge.get(edge, ()), (x, y))

    def __call__(self, text: str) -> Doc:
        if _LONG_RUN.search(text):
            return self._guarded(text)
        words: list[str] = []
        spaces: list[bool] = []
        lengths: list[int] = []
        norms: list[tuple[int, str]] = []
        remembered = self._cache.get
        tokenize = self._tokenize_chunk
        after_phrase = False
        for piece in _PIECES.findall(text):
            if piece[0].isspace():
                if piece[0] == " " and after_phrase:
                    # The one space after a word is that word's trailing space, not a token.
                    spaces[-1] = True
                    piece = piece[1:]
                    if not piece:
                        continue
                after_phrase = False
                chunks: Sequence[str] = (piece,)
            else:
                after_phrase = True
                chunks = piece.split(" ")
                if len(chunks) > 1 and self._straddles(chunks):
                    chunks = (piece,)
            for chunk in chunks:
                entry = remembered(chunk) or tokenize(chunk)
                if entry is _WHOLE:
                    words.append(chunk)
                    spaces.append(True)  # the single space between two chunks of a phrase
                    lengths.append(len(chunk))
                    continue
                if entry[2]:
                    norms.extend((len(words) + i, norm) for i, norm in entry[2])
                words.extend(entry[0])
                spaces.extend(entry[1])
                lengths.extend(entry[3])
                spaces[-1] = True
            spaces[-1] = False
        doc = Doc(self.vocab, words=words, spaces=spaces)
        for i, norm in norms:
            doc[i].norm_ = norm
        starts = list(accumulate(map(add, lengths, spaces), initial=0))
        starts.pop()
        remember_offsets(doc, text, starts, lengths)
        return doc

    def _straddles(self, chunks: list[str]) -> bool:
        """Whether a special-case match could cross one of the single spaces between ``chunks``."""
        edges = self._pairs_by_edge
        for left, right in zip(chunks, chunks[1:], strict=False):
            for x, y in edges.get((left[-1], right[0]), ()):
                if right.startswith(y) and left.endswith(x):
                    return True
        return False

    def _tokenize_chunk(self, chunk: str) -> _Entry:
        entry = self._older.get(chunk)
        if entry is None:
            entry = self._tokens_of(chunk)
        if len(self._cache) >= CACHE_SIZE:
            # A new generation: chunks still in use come back from the old one; the rest are let go.
            self._older, self._cache = self._cache, {}
        self._cache[chunk] = entry
        return entry

    def _tokens_of(self, chunk: str) -> _Entry:
        # Not after a space: after a line break spaCy stops memoising (a special case has matched), so its
        # own memo does not grow by every chunk we ask about; no special case spans a line break, so the
        # chunk's tokens are the same.
        tokens = list(self.base(chunk)) if chunk[0].isspace() else list(self.base("\n" + chunk))[1:]
        vocab = self.vocab
        if len(tokens) == 1 and tokens[0].norm_ == vocab[chunk].norm_:
            return _WHOLE
        return (
            tuple(t.text for t in tokens),
            tuple(bool(t.whitespace_) for t in tokens),
            tuple((i, t.norm_) for i, t in enumerate(tokens) if t.norm_ != vocab[t.text].norm_),
            tuple(len(t.text) for t in tokens),
        )

    def _guarded(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos = 0
        for m in _LONG_RUN.finditer(text):
            self._add(text[pos : m.start()], words, spaces)
            run = m.group(0)
            for i in range(0, len(run), MAX_RUN):
                words.append(run[i : i + MAX_RUN])
                spaces.append(False)
            pos = m.end()
            # A single space after the run belongs to its last piece, as spaCy would attach it.
            if pos < len(text) and text[pos] == " " and (pos + 1 == len(text) or not text[pos + 1].isspace()):
                spaces[-1] = True
                pos += 1
        self._add(text[pos:], words, spaces)
        return Doc(self.vocab, words=words, spaces=spaces)

    def _add(self, piece: str, words: list[str], spaces: list[bool]) -> None:
        if piece:
            for tok in self.base(piece):
                words.append(tok.text)
                spaces.append(bool(tok.whitespace_))

    def pipe(self, texts, batch_size: int = 1000):  # noqa: ANN001, ANN201 - spaCy's tokenizer protocol
        """Tokenize a stream of texts."""
        for text in texts:
            yield self(text)


def _straddling_pairs(base: Tokenizer, vocab: Vocab) -> frozenset[tuple[str, str]]:
    """Adjacent token pairs ``(x, y)`` of the special-case patterns: a match can only cross a space there.

    spaCy's special-case matcher holds each rule's affix tokenization (made without special cases) and
    runs over a document's tokens. A match crossing from one chunk into the next pairs the last token of
    one chunk (so the chunk ends with ``x``) with the first token of the next (which starts with ``y``).
    """
    plain = Tokenizer(vocab, rules={}, prefix_search=base.prefix_search, suffix_search=base.suffix_search,
                      infix_finditer=base.infix_finditer, token_match=base.token_match, url_match=base.url_match)
    pairs: set[tuple[str, str]] = set()
    for string in base.rules:
        pieces = [t.text for t in plain(string)]
        pairs.update((x, y) for x, y in zip(pieces, pieces[1:], strict=False) if x and y)
    return frozenset(pairs)
