"""Dictated corrections keep the corrected TBS; a value taken back with nothing after it leaves no value."""

from __future__ import annotations

import pytest

from tbs_doccheck import Checker

TAIL = (
    "High fracture risk, FRAX MOF 22 %.\nRecommendations: alendronate weekly.\n"
    "Electronically signed by Tomasz Ekwueme-Ross, MD\n"
)


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("TBS L1-L4: 1.198 scratch that 1.298", 1.298),
        ("TBS L1-L4 1.365 -- correction: TBS is 1.356, not 1.365", 1.356),
        ("TBS 1.20 scratch that, make it 1.25", 1.25),
        ("Trabecular bone score 1.31... strike that. The trabecular bone score was not obtained (BMI 42).", None),
        ("TBS 1.244 as measured; scratch that sentence about the hip.", 1.244),
    ],
    ids=["scratch-that-number", "correction-tbs-is", "make-it", "taken-back", "retraction-of-something-else"],
)
def test_the_dictated_value_that_stands_is_the_current_tbs(checker: Checker, line: str, value: float | None) -> None:
    result = checker.check_text("DXA LUMBAR SPINE WITH TBS\n" + line + "\n" + TAIL)
    assert result.tbs_value == value


def test_a_correction_wrapped_onto_the_next_line_keeps_the_corrected_value(checker: Checker) -> None:
    text = "DXA LUMBAR SPINE WITH TBS\nTrabecular bone score L1 through L4 1.211 scratch\nthat 1.261, normal.\n" + TAIL
    assert checker.check_text(text).tbs_value == 1.261
