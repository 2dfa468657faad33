"""The Python API: wires read → nlp → elements → score into ``CheckResult`` models."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from tbs_doccheck._version import __version__
from tbs_doccheck.checker import verdict as score
from tbs_doccheck.checker.findings import extract
from tbs_doccheck.checker.markup import blank_export_syntax, blank_markup
from tbs_doccheck.checker.ocr import fold_ocr_digits
from tbs_doccheck.checker.patterns import PatternSet, load_patterns
from tbs_doccheck.checker.pipeline import build_nlp, release
from tbs_doccheck.checker.speedups.offsets import doc_text
from tbs_doccheck.models import CheckResult, ElementResult, ErrorCode, ReadError, ReportInput


class Checker:
    """Checks TBS reports against the CPT 77092 documentation elements.

    Build one per process: the spaCy pipeline is loaded once and reused.

    Example:
        >>> checker = Checker()
        >>> result = checker.check_text(report_text, report_id="r1")
        >>> result.verdict, result.missing
    """

    def __init__(self, patterns_dir: str | None = None, batch_size: int = 32) -> None:
        """Load the pattern set and build the pipeline.

        Args:
            patterns_dir: A folder of pattern files to use instead of the shipped set.
            batch_size: Documents per ``nlp.pipe`` batch in :meth:`check_many`.
        """
        self.patterns: PatternSet = load_patterns(patterns_dir)
        self.nlp: Language = build_nlp(self.patterns, patterns_dir)
        self.batch_size = batch_size

    @property
    def versions(self) -> dict[str, str]:
        """Tool and pattern-set versions stamped on every result."""
        return {"tool_version": __version__, "patterns_version": self.patterns.manifest.version}

    def _result(self, doc: Doc, report_id: str, source: str | None, position: int | None,
                original: str | None = None) -> CheckResult:
        found = extract(doc, self.patterns)
        if original is not None and original != doc_text(doc):
            _restore_evidence_text(found, original)
        release(doc)  # after the last look at the doc: it drops the offsets doc_text reads too
        elements = {
            eid: ElementResult(satisfied=f.satisfied, reason=f.reason, evidence=f.evidence, rejected=f.rejected,
                               needs_review=bool(f.review))
            for eid, f in found.elements.items()
        }
        review_reasons = [f"{eid}: {why}" for eid, f in found.elements.items() for why in f.review]
        result = CheckResult(
            id=report_id,
            source=source,
            position=position,
            verdict=score.verdict(elements),
            elements=elements,
            requirements=score.requirements(elements),
            missing=score.missing_elements(elements),
            tbs_value=found.tbs_value,
            tbs_region=found.tbs_region,
            signer=found.signer,
            signature_status=found.signature_status,
            needs_review=bool(review_reasons),
            review_reasons=review_reasons,
            **self.versions,
        )
        from tbs_doccheck.flags import flags_for  # cheap: a few regexes and one small JSON file, read once

        return result.model_copy(update={"flags": flags_for(result, original if original is not None else doc.text)})

    def error_result(self, report: ReportInput) -> CheckResult:
        """The ``verdict: "error"`` result for an input that could not be read."""
        err = report.error
        return CheckResult(
            id=report.id,
            source=report.source,
            position=report.position,
            verdict="error",
            error=err.message if err else "no text",
            error_code=err.code if err else None,
            **self.versions,
        )

    def check_text(self, text: str, report_id: str | None = None, source: str | None = None) -> CheckResult:
        """Check one report.

        Args:
            text: The whole report text.
            report_id: The id stamped on the result (``"report"`` when None).
            source: Where the text came from (a path), if anywhere.

        Returns:
            The :class:`CheckResult`; ``verdict`` is ``pass`` only when all five elements are met.
        """
        return self._result(self.nlp(nlp_safe(text)), report_id or "report", source, None, text)

    def check_input(self, report: ReportInput) -> CheckResult:
        """Check one :class:`ReportInput`; read errors become ``verdict: "error"`` results."""
        if report.error is not None or report.text is None:
            return self.error_result(report)
        return self._result(self.nlp(nlp_safe(report.text)), report.id, report.source, report.position, report.text)

    def check_many(self, items: Iterable[str | ReportInput]) -> Iterator[CheckResult]:
        """Check many reports through ``nlp.pipe``, yielding results in input order.

        Args:
            items: Report texts (ids ``report-1``, ``report-2``… by position) or :class:`ReportInput`.

        Yields:
            One :class:`CheckResult` per item, in the order given.
        """
        pending: list[ReportInput] = []
        for n, item in enumerate(items, start=1):
            report = item if isinstance(item, ReportInput) else ReportInput(id=f"report-{n}", text=item)
            pending.append(report)
            if len(pending) >= self.batch_size:
                yield from self._run_batch(pending)
                pending = []
        if pending:
            yield from self._run_batch(pending)

    def _run_batch(self, batch: list[ReportInput]) -> Iterator[CheckResult]:
        readable = [r for r in batch if r.error is None and r.text is not None]
        try:
            docs = list(self.nlp.pipe((nlp_safe(r.text) for r in readable), batch_size=self.batch_size))
        except Exception:  # noqa: BLE001 - one bad report must not sink the batch: retry one by one
            docs = None
        it = iter(docs) if docs is not None else None
        for report in batch:
            if report.error is not None or report.text is None:
                yield self.error_result(report)
                continue
            try:
                doc = next(it) if it is not None else self.nlp(nlp_safe(report.text))
                yield self._result(doc, report.id, report.source, report.position, report.text)
            except Exception as exc:  # noqa: BLE001
                # The message names the exception type only: its text could quote the report.
                log.error("internal error checking %s: %s", report.source or report.id, type(exc).__name__)
                yield self.error_result(report.model_copy(update={"error": ReadError(
                    code=ErrorCode.INTERNAL,
                    message=f"{report.source or report.id}: internal error while checking ({type(exc).__name__})",
                )}))


def nlp_safe(text: str) -> str:
    """What the pipeline reads: same length as ``text``, so every offset still points into the original.

    Lone surrogates become U+FFFD (spaCy cannot encode them); HTML and HL7 markup is blanked out
    (:func:`blank_markup`), and so is export syntax (:func:`blank_export_syntax`); digits misread for
    letters inside words are read as those letters (:func:`fold_ocr_digits`). Evidence text is read back
    from the original afterwards.
    """
    text = fold_ocr_digits(blank_export_syntax(blank_markup(text)))
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def _restore_evidence_text(found, original: str) -> None:  # noqa: ANN001 - DocFindings, kept private
    """Make evidence quote the original text where the pipeline saw a sanitised copy."""
    for finding in found.elements.values():
        finding.evidence = [e.model_copy(update={"text": original[e.start : e.end]}) for e in finding.evidence]
        finding.rejected = [e.model_copy(update={"text": original[e.start : e.end]}) for e in finding.rejected]


_SURROGATE = re.compile("[\ud800-\udfff]")
log = logging.getLogger(__name__)


_default: Checker | None = None
_lock = threading.Lock()


def get_checker() -> Checker:
    """The process-wide :class:`Checker`, built on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = Checker()
        return _default


def check_text(text: str, report_id: str | None = None) -> CheckResult:
    """Check one report with the process-wide :class:`Checker`."""
    return get_checker().check_text(text, report_id)
