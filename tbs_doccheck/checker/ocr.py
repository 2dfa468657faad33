"""OCR digit-for-letter confusions inside words ("c1inically") folded in place, keeping every offset."""

from __future__ import annotations

import re

# Scanned and faxed reports swap look-alike glyphs. Inside a word (a letter on both sides) a 1, 0 or 5 is
# a misread letter, so every rule reads the word it stands for; a digit at a word's edge is left alone
# ("L1-L4", "T12", "kg/m2", "3rd", "page1"), and so are numbers themselves (the TBS reader has its own
# tolerance for letters inside numbers). Evidence is quoted from the original text, not from this copy.
_INSIDE = re.compile(r"(?<=([A-Za-z]))[015]+(?=([A-Za-z]))")
# A vertebral level written without a hyphen ("L1L4", "T12L1"): the digits there are digits.
_LEVEL = re.compile(r"(?:^|[^A-Za-z])[CTLS]$")
_CAPITAL_L = re.compile(r"(?<=[A-Z]{2})l(?=[A-Z])|(?<=[A-Z])l(?=[A-Z]{2})")
_UPPER = {"1": "I", "0": "O", "5": "S"}
_LOWER = {"1": "l", "0": "o", "5": "s"}


def fold_ocr_digits(text: str) -> str:
    """``text`` with 1/0/5 read as l/o/s (I/O/S in capitals) between letters, and l as I among capitals.

    Args:
        text: Report text as the checker is about to read it.

    Returns:
        A string of the same length; unchanged when no digit sits between two letters.
    """
    if not _INSIDE.search(text):
        return text

    def letters(m: re.Match[str]) -> str:
        if m.group(0)[0] != "0" and _LEVEL.search(text, max(0, m.start() - 2), m.start()):
            return m.group(0)
        table = _UPPER if m.group(1).isupper() and m.group(2).isupper() else _LOWER
        return "".join(table[c] for c in m.group(0))

    text = _INSIDE.sub(letters, text)
    # In a word of capitals a lower-case l is a misread I ("PRlOR REPORT", "C0MPARlSON").
    return _CAPITAL_L.sub("I", text) if "l" in text else text
