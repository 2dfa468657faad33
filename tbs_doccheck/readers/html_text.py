"""HTML to plain text, for FHIR narratives and text/html attachments: one line per block element."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tbs_doccheck.readers.base import _normalise_newlines


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML fragment, one line per block element."""

    _BREAK_TAGS = frozenset(
        {
            "p", "div", "li", "tr", "ul", "ol", "table", "thead", "tbody", "tfoot",
            "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "section",
            "article", "header", "footer", "dt", "dd", "dl", "hr", "caption",
        }
    )  # fmt: skip
    _HIDDEN_TAGS = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden = 0
        self._preformatted = 0
        self._cell_in_row = False
        self._at_line_start = True

    def _hard_break(self) -> None:
        self._parts.append("\n")
        self._at_line_start = True

    def _soft_break(self) -> None:
        # Block boundaries end a line but never add blank lines of their own, so
        # "<p>a</p><p>b</p>" reads "a\nb" as the report's author saw it.
        if not self._at_line_start:
            self._hard_break()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "br":
            self._hard_break()
        elif tag in ("td", "th"):
            # Same shape as a .docx table row, so both read alike downstream.
            if self._cell_in_row:
                self._parts.append(" | ")
            self._cell_in_row = True
        elif tag in self._BREAK_TAGS:
            self._soft_break()
            if tag == "tr":
                self._cell_in_row = False
            if tag == "pre":
                self._preformatted += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BREAK_TAGS:
            self._soft_break()
            if tag == "pre":
                self._preformatted = max(0, self._preformatted - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._preformatted:
            # Source line breaks in HTML are just spaces; only tags break lines.
            data = re.sub(r"\s+", " ", data)
        if data.strip():
            self._at_line_start = data.endswith("\n")
        self._parts.append(data)

    def text(self) -> str:
        lines = [line.strip() for line in _normalise_newlines("".join(self._parts)).split("\n")]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)  # at most one blank line in a row
        return "\n".join(out).strip("\n")


def _html_to_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return parser.text()
