"""Form fields, pipe tables under a blank-label header, outside studies and clinical shorthand read by their meaning."""

from __future__ import annotations

import pytest

from tbs_doccheck import Checker

SIGN = "Electronically signed by Oskar Lindqvist-Mbeki, MD 2025-01-30\n"


def test_an_empty_finalized_field_does_not_make_a_preliminary_report_final(checker: Checker) -> None:
    text = (
        "Exam: DXA AXIAL + TBS            | Report status: PRELIMINARY\n"
        "Radiologist: Oskar Lindqvist-Mbeki | Finalized   : --\n"
        "TBS L1-L4: 1.251. Fracture risk moderate (MOF 14 %).\nRecommendation: calcium and vitamin D.\n" + SIGN
    )
    result = checker.check_text(text)
    assert result.signature_status == "preliminary" and not result.elements["signature"].satisfied


def test_a_filled_finalized_field_still_reads_as_final(checker: Checker) -> None:
    text = (
        "Exam: DXA AXIAL + TBS\nFinalized on: 01/30/2025\n"
        "TBS L1-L4: 1.251. Fracture risk moderate (MOF 14 %).\nRecommendation: calcium and vitamin D.\n" + SIGN
    )
    assert checker.check_text(text).elements["signature"].satisfied


@pytest.mark.parametrize(
    ("current_cell", "value"),
    [("1.207", 1.207), ("--", None)],
    ids=["current-filled", "current-empty"],
)
def test_a_pipe_table_whose_header_opens_with_a_blank_label_cell_is_read_by_column(
    checker: Checker, current_cell: str, value: float | None
) -> None:
    text = (
        "DXA lumbar spine with TBS, serial comparison\n\n"
        "                  | 06/2022 (prior) | 01/2025 (current) | 11/2023 (prior)\n"
        "------------------+-----------------+-------------------+----------------\n"
        "L1-L4 T-score     | -1.5            | -1.7              | -1.6\n"
        f"L1-L4 TBS         | 1.262           | {current_cell:17} | 1.240\n\n"
        "High fracture risk: hip 3.6 %.\nRecommendation: zoledronic acid.\n" + SIGN
    )
    assert checker.check_text(text).tbs_value == value


def test_a_value_from_an_outside_study_is_not_this_studys(checker: Checker) -> None:
    text = (
        "BONE DENSITOMETRY (DXA)\nTBS was not performed today. Her TBS of 1.236 from the outside study of 04/2023\n"
        "suggested degraded microarchitecture.\nHigh fracture risk.\nPlan: alendronate.\n" + SIGN
    )
    result = checker.check_text(text)
    assert result.tbs_value is None and not result.elements["tbs_value"].satisfied


@pytest.mark.parametrize(
    ("lines", "element", "satisfied"),
    [
        ("MOF 18/hip 2.9 (TBS-adj), moderate.\nRx alendronate 70 mg weekly.\n", "fracture_risk", True),
        ("MOF 18/hip 2.9 (TBS-adj), moderate.\nRx alendronate 70 mg weekly.\n", "recommendations", True),
        ("MOF 18/hip 2.9 (TBS-adj), moderate.\nRx: none.\n", "recommendations", False),
    ],
    ids=["mof-hip-pair", "rx-drug", "rx-none"],
)
def test_telegraphic_shorthand_for_risk_and_treatment(
    checker: Checker, lines: str, element: str, satisfied: bool
) -> None:
    text = "DXA+TBS 1/30/25. L1-4 T -2.1. TBS L1-4 1.21 degr.\n" + lines + "/s/ O Lindqvist MD\n"
    assert checker.check_text(text).elements[element].satisfied is satisfied


BODY = (
    "DXA lumbar spine with TBS\nTBS L1-L4: 1.244\nHigh fracture risk (MOF 21 %).\nRecommendations: alendronate "
    "weekly.\n\n"
)


@pytest.mark.parametrize(
    "block",
    [
        "Ines Varga-Oduya MBChB FRCP\nConsultant Physician\n\nElectronically signed by Dr Ines Varga-Oduya on "
        "04/04/2024\n",
        "Digitally signed by Dr. Ines Varga-Oduya\nMD (Radiology)\nDate: 2024.06.11\n",
        "Dr. Ines Varga-Oduya\nMBBS, MD (Radiology)\nElectronically signed on 12-03-2024 at 14:55\n",
    ],
    ids=["credential-in-block-above", "credential-on-next-line", "name-then-credential-then-statement"],
)
def test_a_signer_named_without_credential_takes_it_from_the_signature_block(checker: Checker, block: str) -> None:
    result = checker.check_text(BODY + block)
    assert result.elements["signature"].satisfied and result.signer and result.signer.credential
    assert not result.needs_review


def test_a_bare_doctor_with_no_credential_anywhere_still_needs_review(checker: Checker) -> None:
    result = checker.check_text(BODY + "Electronically signed by Dr Ines Varga-Oduya on 04/04/2024\n")
    assert not result.elements["signature"].satisfied and result.needs_review


def test_audit_trail_entries_and_status_changes_are_history_not_the_reports_status(checker: Checker) -> None:
    text = BODY + (
        "Electronically signed by Ines Varga-Oduya, MD on 2024-05-03 16:40\n"
        "--- AUDIT TRAIL ---\n"
        "2024-05-03T14:22:09 | usr=ivarga | EDIT | draft interpretation saved\n"
        "2024-05-03T16:40:55 | usr=ivarga | SIGN | status PRELIM -> FINAL\n"
    )
    result = checker.check_text(text)
    assert result.signature_status == "final" and result.elements["signature"].satisfied


def test_an_addendum_signature_line_closes_the_addendum_it_signs(checker: Checker) -> None:
    text = BODY.replace("Recommendations", "Electronically signed by Ines Varga-Oduya, MD\nRecommendations") + (
        "ADDENDUM (11/15/2024)\nThe TBS reported above is retracted: the BMI is outside the validated range.\n"
        "Addendum electronically signed by: Ines Varga-Oduya, MD 11/15/2024\n"
    )
    result = checker.check_text(text)
    assert not result.elements["tbs_value"].satisfied
