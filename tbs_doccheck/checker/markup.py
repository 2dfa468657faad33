"""Markup inside report text (HTML tags and entities, HL7 escapes) blanked out in place, keeping every offset."""

from __future__ import annotations

import html
import re

# Offsets must not move: evidence quotes the original text by position. So markup is never removed,
# only overwritten: a tag or an escape becomes what it encodes (a line break for block tags and
# ``\.br\``, a character for an entity) followed by spaces to its old length.

_BLOCK_TAGS = "br|p|div|li|tr|table|ul|ol|h[1-6]|section|article|pre|blockquote|thead|tbody"
_INLINE_TAGS = "td|th|span|b|i|u|em|strong|font|a|small|sup|sub|code|tt|col|colgroup"
_TAG = re.compile(rf"</?(?:({_BLOCK_TAGS})|(?:{_INLINE_TAGS}))\b[^<>\n]{{0,200}}/?>", re.IGNORECASE)
# A tag written as entities ("&lt;br/&gt;", once or twice escaped), as FHIR narratives pasted as text show.
_ESCAPED_TAG = re.compile(
    rf"&(?:amp;)?lt;/?(?:({_BLOCK_TAGS})|(?:{_INLINE_TAGS}))\b[^&<>\n]{{0,200}}?/?&(?:amp;)?gt;", re.IGNORECASE
)
_ENTITY = re.compile(r"&(?:amp;)?(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_HL7_BREAK = re.compile(r"\\(?:\.br|X0D(?:0A)?|X0A)\\", re.IGNORECASE)
_HL7_CHAR = re.compile(r"\\([FSTRE])\\")
_HL7_CHARS = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\"}
_QUICK = re.compile(r"[<&\\]")


def _pad(replacement: str, length: int) -> str:
    return (replacement + " " * length)[:length]


def _tag(m: re.Match[str]) -> str:
    return _pad("\n" if m.group(1) else " ", len(m.group(0)))


def _entity(m: re.Match[str]) -> str:
    decoded = html.unescape(f"&{m.group(1)};")
    if len(decoded) != 1 or decoded == f"&{m.group(1)};":
        return m.group(0)  # not an entity html knows: leave the text as written
    return _pad(" " if decoded == "\xa0" else decoded, len(m.group(0)))


def blank_markup(text: str) -> str:
    """``text`` with markup overwritten by what it encodes, padded with spaces: same length, same offsets.

    Args:
        text: Report text, possibly holding HTML tags or entities (FHIR narratives, EHR exports) or HL7
            escape sequences (``\\.br\\``, ``\\T\\``) pasted into plain text.

    Returns:
        A string of the same length, in which the checker's rules see words and line breaks instead.
    """
    if not _QUICK.search(text):
        return text
    text = _ESCAPED_TAG.sub(_tag, text)
    text = _TAG.sub(_tag, text)
    text = _ENTITY.sub(_entity, text)
    text = _HL7_BREAK.sub(lambda m: _pad("\n", len(m.group(0))), text)
    return _HL7_CHAR.sub(lambda m: _pad(_HL7_CHARS[m.group(1)], len(m.group(0))), text)
