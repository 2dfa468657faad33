"""HTML tags and entities and HL7 escapes inside report text are read as what they encode, with offsets kept."""

from __future__ import annotations

import pytest

from tbs_doccheck import Checker
from tbs_doccheck.checker.markup import blank_export_syntax, blank_markup
from tbs_doccheck.checker.ocr import fold_ocr_digits

PASSING = [
    "BONE DENSITOMETRY (DXA) WITH TBS",
    "TBS L1-L4: 1.262",
    "Fracture risk: moderate, FRAX MOF 14 %",
    "Recommendations: calcium &amp; vitamin D, repeat DXA in 2 years",
    "Electronically signed by Noor Haddad-Lind, MD",
]


@pytest.mark.parametrize(
    "joiner",
    ["<br/>", "<br>\n", "&lt;br/&gt;", "&amp;lt;br/&amp;gt;", "\\.br\\", "</p><p>", "</div>\n<div class=\"x\">"],
    ids=["br-tag", "br-tag-newline", "escaped-br", "double-escaped-br", "hl7-break", "paragraphs", "divs"],
)
def test_a_report_whose_lines_are_joined_by_markup_reads_like_plain_text(checker: Checker, joiner: str) -> None:
    text = joiner.join(PASSING)
    result = checker.check_text(text)
    assert result.verdict == "pass", result.missing
    for element in result.elements.values():
        for ev in element.evidence:
            assert text[ev.start : ev.end] == ev.text


@pytest.mark.parametrize(
    "text",
    ["T-score < -2.5 and TBS <1.230", "calcium & vitamin D", "<value>", "A&B; x", "plain"],
)
def test_text_that_only_looks_like_markup_keeps_its_length_and_words(text: str) -> None:
    out = blank_markup(text)
    assert len(out) == len(text)
    assert out.split()[0] == text.split()[0]


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Kindly correlate c1inically.", "Kindly correlate clinically."),
        ("E1ectronica11y signed", "Electronically signed"),
        ("CL1NICAL B0NE DENSITY", "CLINICAL BONE DENSITY"),
        ("PRlOR REPORT FOR C0MPARlSON", "PRIOR REPORT FOR COMPARISON"),
        ("TBS L1L4 1.234, T12L1, page1, kg/m2, 3rd, 1.2O4", "TBS L1L4 1.234, T12L1, page1, kg/m2, 3rd, 1.2O4"),
    ],
    ids=["lower-case-word", "several-digits", "upper-case-words", "l-among-capitals",
         "levels-units-and-numbers-untouched"],
)
def test_digits_misread_for_letters_inside_words_are_read_as_those_letters(text: str, read: str) -> None:
    assert fold_ocr_digits(text) == read


def test_evidence_quotes_the_ocr_damaged_words_as_written(checker: Checker) -> None:
    text = "\n".join(PASSING).replace("Electronically signed", "E1ectronica11y signed")
    result = checker.check_text(text)
    sig = result.elements["signature"]
    assert sig.satisfied
    assert sig.evidence[0].text.startswith("E1ectronica11y signed")


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("A\\nB\\r\\nC\\n", "A\n B\n   C\n "),
        ("NTE|2||ADDENDUM: x", "       ADDENDUM: x"),
        ("OBX|3|TX|REP^Report||Impression: x", "                     Impression: x"),
        ("TBS_L1_L4 ___", "TBS L1-L4 ___"),
        ("**TBS:** 1.2 ***", "  TBS:   1.2 ***"),
        ("a.b=1\nres.TBS=\nres.TBS.prior=1.3\nx == y", "a b:1\nres TBS:\nres TBS prior:1.3\nx == y"),
    ],
    ids=["literal-line-breaks", "hl7-note-head", "hl7-text-result-head", "field-name-underscores", "markdown-bold",
         "key-value-dump"],
)
def test_export_syntax_is_blanked_so_field_names_read_as_words(text: str, read: str) -> None:
    assert blank_export_syntax(text) == read
