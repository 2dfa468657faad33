"""medspaCy's Sectionizer without its per-token section writes, which nothing here reads."""

from medspacy.section_detection import Sectionizer
from medspacy.section_detection.section import Section
from spacy.language import Language
from spacy.tokens import Doc

from tbs_doccheck.checker.components.schema import TARGET_GROUP


class FastSectionizer(Sectionizer):
    """``doc._.sections`` exactly as medspaCy 1.3.1 builds them, without ``token._.section``.

    The stock component also stores the section on every token (an extension write per token,
    about a tenth of the checker's time); tbs-doccheck reads sections from ``doc._.sections``
    only. Any option this fast path does not cover falls back to the stock behaviour.
    """

    def _plain(self) -> bool:
        matcher = self._Sectionizer__matcher
        return not (
            self.max_section_length or self.require_start_line or self.require_end_line or self._parent_sections
            or self._apply_sentence_boundary or self.assertion_attributes_mapping
            or any(rule.max_scope is not None for rule in matcher.rules)
        )

    def __call__(self, doc: Doc) -> Doc:
        if not self._plain():
            return super().__call__(doc)
        matcher = self._Sectionizer__matcher  # medspaCy keeps it private; pinned to 1.3.1
        matches = matcher(doc)
        doc._.sections = []
        if not matches:
            doc._.sections.append(Section(None, 0, 0, 0, len(doc)))
            return doc
        if matches[0][1] != 0:
            doc._.sections.append(Section(None, 0, 0, 0, matches[0][1]))
        for i, (match_id, start, end) in enumerate(matches):
            rule = matcher.rule_map[self.nlp.vocab.strings[match_id]]
            stop = matches[i + 1][1] if i + 1 < len(matches) else len(doc)
            doc._.sections.append(Section(rule.category, start, end, end, stop, None, rule))
        return doc


@Language.factory(
    "tbs_sectionizer",
    default_config={"rules": None, "span_attrs": None, "input_span_type": "group", "span_group_name": TARGET_GROUP},
    assigns=["doc._.sections", "token._.section"],
)
def make_tbs_sectionizer(nlp: Language, name: str, rules: str | None, span_attrs: dict | None, input_span_type: str,
                         span_group_name: str) -> FastSectionizer:
    """Build :class:`FastSectionizer` (rules are added afterwards, as with medspaCy's own factory)."""
    return FastSectionizer(nlp, name=name, rules=rules, span_attrs=span_attrs, input_span_type=input_span_type,
                           span_group_name=span_group_name)
