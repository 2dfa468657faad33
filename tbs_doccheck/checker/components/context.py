"""medspaCy's ConText with a graph that compares only modifiers and targets whose scopes can meet."""

from bisect import bisect_left, bisect_right

import numpy
from medspacy.context import ConText, ConTextRule
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from tbs_doccheck.checker.components.schema import TARGET_GROUP


class FastConTextGraph(ConTextGraph):
    """Same edges as medspaCy 1.3.1's ``ConTextGraph``, in the same order, without its all-pairs loops.

    ``update_scopes`` compares every pair of modifiers and ``apply_modifiers`` every
    (target, modifier) pair; both calls are no-ops unless the two scopes touch, so only those pairs
    are visited, in the original order. A 100 KB report went from quadratic time to linear.
    """

    def update_scopes(self) -> None:
        mods = self.modifiers
        order = sorted(range(len(mods)), key=lambda i: mods[i].scope_span[0])
        pairs: list[tuple[int, int]] = []
        active: list[tuple[int, int]] = []  # (scope end, modifier index)
        for i in order:
            start, end = mods[i].scope_span
            active = [(e, j) for e, j in active if e >= start]
            pairs.extend((min(i, j), max(i, j)) for _, j in active)
            active.append((end, i))
        for i, j in sorted(pairs):
            mods[i].limit_scope(mods[j])
            mods[j].limit_scope(mods[i])

    def apply_modifiers(self) -> None:
        if self.prune_on_modifier_overlap:  # not used by tbs-doccheck; keep medspaCy's behaviour
            super().apply_modifiers()
            return
        mods = self.modifiers
        order = sorted(range(len(mods)), key=lambda i: mods[i].scope_span[0])
        starts = [mods[i].scope_span[0] for i in order]
        longest = max((m.scope_span[1] - m.scope_span[0] for m in mods), default=0)
        for target in self.targets:
            lo = bisect_left(starts, target.start - longest)
            hi = bisect_right(starts, target.end)
            for i in sorted(order[lo:hi]):
                modifier = mods[i]
                if modifier.modifies(target):
                    modifier.modify(target)
        edges = []
        for modifier in mods:
            modifier.reduce_targets()
            for target in modifier._targets:
                edges.append((target, modifier))
        self.edges = edges


#: Tokens within which a modifier can matter: its scope is at most one (capped) sentence or a
#: ``max_scope`` window, and it can limit another modifier whose scope reaches a target. Three
#: such spans plus the longest target leave a wide margin.
_REACH = 3 * 150 + 64


class FastConText(ConText):
    """medspaCy's ``ConText`` component using :class:`FastConTextGraph`.

    Modifiers too far from every target to modify one, or to limit the scope of one that does,
    are not built: edges are the same, and a report with 300,000 lines of "no" stays cheap.
    """

    def __call__(self, doc: Doc, targets: str | None = None) -> Doc:
        if not targets and self.input_span_type == "ents":
            spans = doc.ents
        elif not targets and self.input_span_type == "group":
            spans = doc.spans.get(self.span_group_name, [])
        else:
            spans = getattr(doc._, targets)
        graph = FastConTextGraph(prune_on_modifier_overlap=self.prune_on_target_overlap)
        graph.targets = spans
        graph.modifiers = []
        matcher = self._ConText__matcher  # medspaCy keeps it private; pinned to 1.3.1
        target_starts = sorted(t.start for t in spans)
        sent_starts = None if self.max_scope or doc.user_hooks or doc.user_span_hooks else _sentence_starts(doc)
        for match_id, start, end in matcher(doc):
            lo = bisect_left(target_starts, start - _REACH)
            if lo == len(target_starts) or target_starts[lo] > end + _REACH:
                continue  # no target near enough for this modifier (or one it could limit) to matter
            rule = matcher.rule_map[self.nlp.vocab[match_id].text]
            if sent_starts is None:
                modifier = ConTextModifier(rule, start, end, doc, max_scope=self.max_scope)
            else:
                scope_start, scope_end = _sentence_scope(rule, start, end, sent_starts, len(doc))
                modifier = ConTextModifier(rule, start, end, doc, scope_start, scope_end, max_scope=self.max_scope)
            graph.modifiers.append(modifier)
        graph.update_scopes()
        graph.apply_modifiers()
        for target, modifier in graph.edges:
            target._.modifiers += (modifier,)
        if self.context_attributes_mapping:
            self.set_context_attributes(graph.edges)
        doc._.context_graph = graph
        return doc


def _sentence_starts(doc: Doc) -> list[int] | None:
    """Indices of the tokens that start a sentence, or None when no sentence boundaries are set."""
    if not doc.has_annotation("SENT_START"):
        return None  # medspaCy raises its own error for this
    return numpy.flatnonzero(doc.to_array(SENT_START).astype("int64") == 1).tolist()


def _sentence_scope(rule: ConTextRule, start: int, end: int, sent_starts: list[int], n: int) -> tuple[int, int]:
    """The scope medspaCy 1.3.1's ``ConTextModifier`` gives a match (no ``max_scope`` window), from sentence starts.

    medspaCy walks token by token to the edges of ``doc[start].sent``; the sentence is found here by
    bisection, then clipped exactly as medspaCy clips it.
    """
    k = bisect_right(sent_starts, start)
    sent_start = sent_starts[k - 1] if k else 0
    sent_end = sent_starts[k] if k < len(sent_starts) else n
    direction = rule.direction.lower()
    limit = rule.max_scope
    if direction == "forward":
        scope = (end, sent_end)
        if limit is not None and scope[1] - scope[0] > limit:
            scope = (scope[0], end + limit)
    elif direction == "backward":
        scope = (sent_start, start)
        if limit is not None and scope[1] - scope[0] > limit:
            scope = (start - limit, scope[1])
    else:
        scope = (sent_start, sent_end)
        if limit is not None and start - scope[0] > limit:
            scope = (start - limit, scope[1])
        if limit is not None and scope[1] - end > limit:
            scope = (scope[0], end + limit)
    return scope


@Language.factory(
    "tbs_context",
    default_config={
        "rules": None,
        "input_span_type": "group",
        "span_group_name": TARGET_GROUP,
        "span_attrs": None,
        "prune_on_modifier_overlap": True,
        "prune_on_target_overlap": False,
    },
    assigns=["span._.modifiers", "doc._.context_graph"],
    requires=["token.is_sent_start"],
)
def make_tbs_context(nlp: Language, name: str, rules: str | None, input_span_type: str, span_group_name: str,
                     span_attrs: dict | None, prune_on_modifier_overlap: bool,
                     prune_on_target_overlap: bool) -> FastConText:
    """Build :class:`FastConText` (rules are added afterwards, as with medspaCy's own factory)."""
    return FastConText(nlp, name=name, rules=rules, input_span_type=input_span_type, span_group_name=span_group_name,
                       span_attrs=span_attrs, prune_on_modifier_overlap=prune_on_modifier_overlap,
                       prune_on_target_overlap=prune_on_target_overlap)
