"""Markup inside report text (HTML, HL7 escapes and segment heads, export syntax) blanked out in place, same offsets."""

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


# Export syntax that hides words from the rules. Literal escapes in a dumped text field ("…TBS\\n…"): a
# line break and padding. Only when the text holds several, so a lone "\\n" in prose stays as written.
_LITERAL_BREAK = re.compile(r"\\r\\n|\\n|\\r")
_LITERAL_TAB = re.compile(r"\\t")
# The head of an HL7 note or text-result segment ("NTE|2||", "OBX|4|TX|…||"): its text then starts the line.
_HL7_TEXT_HEAD = re.compile(r"(?m)^(?:NTE\|[^|\n]{0,20}\|[^|\n]{0,20}\||OBX\|[^|\n]{0,20}\|(?:TX|FT)\|[^|\n]{0,200}\|"
                            r"[^|\n]{0,20}\|)")
# A single underscore joining the words of a field name ("TBS_L1_L4", "ESIGNED_BY"); "___" is a blank field.
_JOINING_UNDERSCORE = re.compile(r"(?<=[A-Za-z0-9])_(?=[A-Za-z0-9])")
# Between two vertebral levels ("TBS_L1_L4") the underscore is the range's hyphen.
_LEVEL_UNDERSCORE = re.compile(r"(?<=[LlTt][1-5])_(?=[Ll][1-5](?![0-9]))")
# Markdown emphasis ("**TBS (L1-L4):** 1.196"); three or more stars are a placeholder and stay.
_EMPHASIS = re.compile(r"(?<!\*)\*\*(?!\*)")
# A key=value dump's key ("res.TBS_L1_L4.prior=1.301"): its parts read as words, "=" as a label's colon.
_KEY_LINE = re.compile(r"(?m)^[ \t]{0,8}[A-Za-z][\w.\[\]-]{0,60}[ \t]{0,4}=(?!=)")
_EXPORT_HINT = re.compile(r"\\[nrt]|NTE\||\|(?:TX|FT)\||[A-Za-z0-9]_[A-Za-z0-9]|\*\*|^[ \t]{0,8}[\w.]{1,60}=", re.M)


def blank_export_syntax(text: str) -> str:
    """``text`` with export syntax (literal escapes, HL7 segment heads, field-name underscores, ``**``) blanked.

    Args:
        text: Report text, possibly a field dump from an interface or a data warehouse.

    Returns:
        A string of the same length in which field names read as words and dumped line breaks break lines.
    """
    if not _EXPORT_HINT.search(text):
        return text
    if len(_LITERAL_BREAK.findall(text)) >= 2:
        text = _LITERAL_BREAK.sub(lambda m: _pad("\n", len(m.group(0))), text)
        text = _LITERAL_TAB.sub("  ", text)
    text = _HL7_TEXT_HEAD.sub(lambda m: " " * len(m.group(0)), text)
    if len(_KEY_LINE.findall(text)) >= 3:
        text = _KEY_LINE.sub(lambda m: m.group(0)[:-1].replace(".", " ") + ":", text)
    text = _LEVEL_UNDERSCORE.sub("-", text)
    text = _JOINING_UNDERSCORE.sub(" ", text)
    return _EMPHASIS.sub("  ", text)
