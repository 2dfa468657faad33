"""spaCy's tokenizer, guarded against long runs without spaces (its affix loop is quadratic in them)."""

import re

from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.vocab import Vocab

#: Runs of non-space characters longer than this are cut into pieces of this size.
MAX_RUN = 64
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN + 1))


class GuardedTokenizer:
    """Tokenizes like spaCy's English tokenizer, except inside very long non-space runs.

    spaCy splits punctuation off a token one character at a time and rescans what is left, so a
    20,000-character run of underscores took a minute. Reports never hold words that long; such
    runs (rules of ``_____``, base64, garbage) are cut into fixed-size tokens instead. The text is
    unchanged, so every character offset still indexes the original report.
    """

    def __init__(self, base: Tokenizer, vocab: Vocab) -> None:
        self.base = base
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        if not _LONG_RUN.search(text):
            return self.base(text)
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
