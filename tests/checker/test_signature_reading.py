"""How the checker reads signature blocks: where the signer stands, who qualifies, and what a report status is.

Every case is a complete report whose four other elements are met, so the signature decides the verdict.
The wordings are this file's own (none is copied from the labelled sets), one or more per structural class.
"""

from __future__ import annotations

import pytest

from tbs_doccheck import Checker

BODY = (
    "Northgate Diagnostic Centre - Densitometry\n"
    "Patient: Sample, Gamma   Record 448812   Scan date 02/03/2025\n"
    "Procedure: DXA of the lumbar spine and left hip; trabecular bone score from the AP spine image.\n"
    "TBS (L1-L4): 1.236, partially degraded.\n"
    "Impression: osteopenia. Ten-year fracture risk is moderate (TBS-adjusted FRAX MOF 11.0%, hip 1.6%).\n"
    "Recommendations: calcium and vitamin D; repeat DXA in 2 years.\n\n"
)


def report(block: str) -> str:
    """The complete report closed by ``block``."""
    return BODY + block


def _case(cid: str, *values: str | None) -> object:
    return pytest.param(*values, id=cid)


# --- the signer's place in the block -------------------------------------------------------------------
SIGNED = [
    _case("a name and credential line right above a dated e-signature",
          "Harriet Lindgren, DO\nE-signature applied 2025-02-03 08:15\n", "Harriet Lindgren", "DO"),
    _case("a name line, then a department line, then the dated signing statement",
          "Tomasz Berg MD FRCPC\nDiagnostic Imaging\nDigitally signed on 2025-02-03 at 10:15\n", "Tomasz Berg", "MD "
                                                                                                                "FRCPC"),
    _case("a role phrase after the signing date belongs to the name above",
          "Marguerite Olin, MD\nElectronically signed 02/03/2025 14:02 Reading Physician\n", "Marguerite Olin", "MD"),
    _case("a signing statement ending its line with 'by' and the name under it",
          "Electronically authenticated by\nOlin, Marguerite, MD\n", "Olin, Marguerite", "MD"),
    _case("the name before the signing words on the same line",
          "Reading radiologist: Marguerite Olin, MD (electronically signed)\n", "Marguerite Olin", "MD"),
    _case("a name with a slash and the signing words after it",
          "Marguerite Olin, M.D. / Electronically Signed: 02/03/2025 09:14\n", "Marguerite Olin", "M.D."),
    _case("role words standing before the signer's name",
          "Reviewed and electronically signed by the attending radiologist, Dr. Kofi Asante\n", "Kofi Asante", None),
    _case("a signing statement broken across two lines",
          "Digitally\nsigned by Kofi Asante, MD on 2025-02-03\n", "Kofi Asante", "MD"),
    _case("the signing date and the 'by' in the other order",
          "Electronically Signed On: 02/03/2025 By: Kofi Asante, DO\n", "Kofi Asante", "DO"),
    _case("a signer in a "
          "pipe-separated row", "| Signed by | Dr Kofi Asante | MBBS | 2025-02-03 |\n", "Kofi Asante", "MBBS"),
    _case("OCR digits and bars inside the signing words", "E|ectronica11y s1gned: Kofi Asante, MD 02/03/2025\n",
          "Kofi Asante", "MD"),
    _case("a German signing statement", "Elektronisch signiert von Dr. med. Kofi Asante, MD - 03.02.2025\n",
          "Kofi Asante", "MD"),
    _case("a bracketed signing label before the name",
          "[Electronically Signed] Ines Vaz, MD 02/03/2025 16:40\n", "Ines Vaz", "MD"),
    _case("an upper-case 'Last, First Initial' name with its credential",
          "ELECTRONICALLY SIGNED BY: VAZ, INES A MD ON 02/03/2025\n", "VAZ, INES A", "MD"),
    _case("a degree followed by where it was granted",
          "Authorised and e-signed: Dr MAK Tsz Hin, MBBS(HK), FHKCR    2025-02-03\n", "MAK Tsz Hin", "MBBS(HK)"),
    _case("OCR 'cl' for 'd' in the signing word", "Electronically signecl by Ines Vaz, PA-C  02/03/2025\n", "Ines Vaz",
          "PA-C"),
    _case("a 'Signature (electronic):' field", "Signature (electronic): Ines Vaz, DO\n", "Ines Vaz", "DO"),
    _case("a date line under the signature is not a second statement",
          "Electronically signed by Kofi Asante, MD\nSigned on: 02/03/2025 10:15\n", "Kofi Asante", "MD"),
    _case("a rule line between the name and the dated statement",
          "Kofi Asante, MD\n------------------------------\nElectronically signed 02/03/2025\n", "Kofi Asante", "MD"),
    _case("a signing statement in angle brackets", "<Electronically signed by Kofi Asante, MD> 02/03/25 1015\n",
          "Kofi Asante", "MD"),
    _case("a credential in "
          "parentheses", "Electronically signed by Dr. Kofi Asante (MD) 02/03/2025\n", "Kofi Asante", "MD"),
    _case("a doctor and a role in a block above the statement", "Dr Ines Kaur\nRadiologist\nElectronically signed "
                                                                "3/2/2025\n",
          "Ines Kaur", None),
    _case("an ISO timestamp between the signing words and the signer",
          "E-signed 2025-02-03T10:15:00Z by Kofi Asante, MD\n", "Kofi Asante", "MD"),
    _case("a VA-style /es/ signature", "/es/ Kofi Asante, MD\nStaff Radiologist\n", "Kofi Asante", "MD"),
    _case("signed and authorised by a consultant", "Electronically signed and authorised by Dr Ines Kaur, MBBS, "
                                                   "03/02/2025\n",
          "Ines Kaur", "MBBS"),
    _case("a signed addendum after the signed report",
          "Electronically signed by Kofi Asante, MD 02/03/2025\n\nADDENDUM 02/05/2025: TBS confirmed at 1.236 on "
          "re-analysis.\n"
          "Electronically signed by Kofi Asante, MD 02/05/2025\n", "Kofi Asante", "MD"),
]


@pytest.mark.parametrize(("block", "name", "credential"), SIGNED)
def test_the_signer_is_found_wherever_the_block_puts_the_name(checker: Checker, block: str, name: str,
                                                               credential: str | None) -> None:
    r = checker.check_text(report(block))
    sig = r.elements["signature"]
    assert sig.satisfied, sig.reason
    assert r.verdict == "pass"
    assert r.signer is not None and (r.signer.name, r.signer.credential) == (name, credential)
    assert not sig.needs_review


# --- who qualifies -------------------------------------------------------------------------------------
QUALIFIED = [
    _case("an MB BS degree written in two parts", "Electronically signed by Anand Kapoor, MB BS, FRCR 02/03/2025\n"),
    _case("an MB ChB degree followed by a "
          "fellowship", "Signed electronically by Fiona Bell MB ChB FRCP on 03/02/2025\n"),
    _case("an Irish MB BCh BAO degree", "Authenticated electronically: Seamus Roe, MB BCh BAO, 04/02/2025\n"),
    _case("an MBBS written with dots and a comma", "Electronically signed by Leela Nair, M.B.,B.S., MD 02/03/2025\n"),
    _case("a hyphenated compound NP credential", "Electronically signed by Paula Grant, APRN-CNP 02/03/2025\n"),
    _case("a board suffix on an APRN credential", "Electronically signed by Paula Grant, APRN-BC 02/03/2025\n"),
    _case("a DNP together with an NP credential", "Electronically signed by Paula Grant, DNP, FNP-C 02/03/2025\n"),
    _case("an NP who also lists RN", "Electronically signed by Paula Grant, MSN, RN, AGNP-C 02/03/2025\n"),
    _case("an unlisted degree between a name and PA-C", "Electronically signed by Ben Hart, MPAS, PA-C 02/03/2025\n"),
    _case("a physician assistant named by role", "Electronically signed by Ben Hart, Physician Assistant 02/03/2025\n"),
    _case("a lower-case name after 'by' with a role", "electronically signed by dr. gina alvarez, consultant "
                                                      "radiologist\n"),
    _case("a doctor with a qualifying role", "Digitally signed by Dr. Omar Said, Consultant Endocrinologist, "
                                             "02/03/2025\n"),
    _case("a doctor whose role is on the next line", "Digitally signed by Dr Omar Said FRCR\nConsultant Radiologist\n"),
    _case("MD and PhD together", "Electronically signed by Sam Roe, MD/PhD 02/03/2025\n"),
]


@pytest.mark.parametrize("block", QUALIFIED)
def test_a_listed_credential_or_a_physician_role_qualifies_the_signer(checker: Checker, block: str) -> None:
    sig = checker.check_text(report(block)).elements["signature"]
    assert sig.satisfied, sig.reason


NOT_QUALIFIED = [
    _case("a bachelor's degree alone", "Electronically signed by Kyle Ames, BS  02/03/2025\n"),
    _case("a bachelor of science with honours", "Electronically signed by Kyle Ames, BSc (Hons)  02/03/2025\n"),
    _case("a DNP with no NP credential", "Electronically signed by Paula Grant, DNP 02/03/2025\n"),
    _case("a chiropractor called a physician", "e-signed: Dr. Lena Ortiz, chiropractic physician 02/03/2025\n"),
    _case("a chiropractic degree before a radiologist role", "Electronically signed by Sam Roe, DC, Radiologist "
                                                             "02/03/2025\n"),
    _case("a naturopathic degree", "Electronically signed by Tom Reed, ND 02/03/2025\n"),
    _case("a podiatry degree", "Electronically signed by Sam Roe, DPM 02/03/2025\n"),
    _case("a PhD physicist", "Digitally signed by Dr. Omar Said, PhD\nMedical Physicist, DXA Quality Assurance\n"),
    _case("a PhD with no physician role", "Digitally signed by Dr. Omar Said, PhD 02/03/2025\n"),
    _case("a fellowship with no degree or role", "Electronically signed by Ann Low, FRCR 02/03/2025\n"),
    _case("a consultant radiographer", "Dr Ann Low FRCR\nConsultant Radiographer\nElectronically signed 02/03/2025\n"),
    _case("a nurse navigator", "Electronically signed by Sam Roe, Nurse Navigator 02/03/2025\n"),
    _case("a licensed practical nurse", "Electronically signed by Sam Roe, LPN 02/03/2025\n"),
    _case("a clinical nurse specialist", "Electronically signed by Jane Roe, CNS 02/03/2025\n"),
    _case("a medical student", "Electronically signed by Ann Low, Medical Student 02/03/2025\n"),
    _case("a physician assistant student", "Electronically signed by Ben Hart, PA-S 02/03/2025\n"),
    _case("a UK specialty trainee", "Electronically signed by Jane Roe, MBBS (ST3 Radiology) 02/03/2025\n"),
    _case("a technologist's name block above a dated statement",
          "Maria Costa, RT(R)(BD)\nBone Densitometry Technologist\nElectronically signed 02/03/2025 14:02\n"),
    _case("a technologist named before the signing "
          "words", "Scan analysed by Maria Costa, CBDT - e-signed 02/03/2025\n"),
    _case("a role after the date with no name anywhere", "Electronically signed 02/03/2025 14:02 Reading Physician\n"),
    _case("a department as the signer", "Electronically signed by Radiologist on Duty 02/03/2025\n"),
    _case("a name with no credential or role", "Electronically signed by Tom Berg\n"),
]


@pytest.mark.parametrize("block", NOT_QUALIFIED)
def test_a_signer_off_the_closed_list_does_not_satisfy_the_signature(checker: Checker, block: str) -> None:
    r = checker.check_text(report(block))
    assert not r.elements["signature"].satisfied, r.elements["signature"].reason
    assert r.missing == ["signature"] and r.signer is None


@pytest.mark.parametrize("block", [
    pytest.param("Electronically signed by Dr. Patel 02/03/2025 11:40\n", id="a bare Dr. after the signing words"),
    pytest.param("Dr Ines Kaur\nDigitally signed 03.02.2025\n", id="a bare Dr. in the block above"),
    pytest.param("Digitally signed by Prof. Omar Said 02/03/2025\n", id="a bare Prof."),
])
def test_a_bare_doctor_title_fails_and_asks_for_a_review(checker: Checker, block: str) -> None:
    r = checker.check_text(report(block))
    sig = r.elements["signature"]
    assert not sig.satisfied and sig.needs_review
    assert r.needs_review and any(reason.startswith("signature:") for reason in r.review_reasons)


# --- signed by someone else, or not signed -------------------------------------------------------------
UNSIGNED = [
    _case("a secretary signing in the consultant's absence",
          "Dr Ann Low MBBS, Consultant Rheumatologist\nElectronically signed in her absence by: R. Moss (secretary)\n"),
    _case("a signature on behalf of the physician", "Electronically signed on behalf of Dr. Ann Low by Rita Moss, "
                                                    "clerk\n"),
    _case("a per procurationem signature", "Dr Ann Low MBBS, Consultant Rheumatologist\ne-signed pp Dr Ann Low by R. "
                                           "Moss\n"),
    _case("a statement saying no signature was applied", "Jane Roe, MD\nElectronic signature: not applied\n"),
    _case("a bracketed placeholder for the signer", "Electronically signed by: [Radiologist Name]\n"),
    _case("an ordering physician above a dated statement", "Ordering provider: Kevin Osei, MD\nElectronically signed "
                                                           "02/03/2025\n"),
    _case("a UK reported-by line", "Reported by: Dr Ann Low MBBS FRCR, Consultant Radiologist\n"),
    _case("a letter closing with a typed name only", "Yours sincerely,\n\nDr Jane Roe MBBS FRCP\n"),
    _case("a computer-generated report that needs no signature",
          "Dr. Jane Roe\nMD (Radiodiagnosis)\nConsultant Radiologist\n(This is a computer-generated report, hence no "
          "signature is required)\n"),
    _case("the ordering physician's signature on the requisition",
          "Requisition electronically signed by ordering physician Kevin Osei, MD\n"),
    _case("a digital signature with a name only", "Digitally signed by JANE ROE\nDate: 2025.02.03 10:15:22 +05'30'\n"),
    _case("a technologist named under a role label above a dated statement, a physician below",
          "Technologist: Dana Cole\nElectronically signed 02/03/2025\nSupervising physician: Kevin Osei, MD\n"),
    _case("a section label is not a signer's label", "Recommendations: Kevin Osei, MD to manage.\nElectronically "
                                                     "signed 02/03/2025\n"),
    _case("a fellow's signature waiting for the attending",
          "E-signed by Ann Low, MD (Musculoskeletal Fellow) - pending attending co-signature\n"),
    _case("a student's note whose co-signature is still to come",
          "Written by: Alex Grant, MS3\nAttending addendum: pending - to be co-signed by Kevin Osei, MD\n"),
]


@pytest.mark.parametrize("block", UNSIGNED)
def test_a_signature_not_given_by_a_qualified_professional_fails(checker: Checker, block: str) -> None:
    r = checker.check_text(report(block))
    assert not r.elements["signature"].satisfied, r.elements["signature"].reason
    assert r.missing == ["signature"]


def test_a_signer_read_from_the_line_under_a_bare_statement_passes_but_asks_for_a_review(checker: Checker) -> None:
    r = checker.check_text(report("Electronically signed 02/03/2025 10:41\nInterpreting physician: Ann Low, MD\n"))
    assert r.verdict == "pass" and r.elements["signature"].needs_review


def test_a_technologist_before_the_statement_is_its_signer_even_with_a_physician_below(checker: Checker) -> None:
    block = ("Technologist: Dana Cole, CDT - electronically signed 05/05/2025 10:41\n"
             "Interpreting physician: Ann Low, MD\n")
    r = checker.check_text(report(block))
    assert not r.elements["signature"].satisfied and "staff" in r.elements["signature"].reason


def test_the_attending_is_the_signer_when_a_fellow_and_the_attending_both_sign(checker: Checker) -> None:
    block = ("Electronically signed by Kim Lee, MD (Body Imaging Fellow) 02/03/2025 09:00\n"
             "I have reviewed the images with the fellow and concur.\n"
             "Electronically signed by Maya Ross, MD 02/03/2025 11:00\n")
    r = checker.check_text(report(block))
    assert r.verdict == "pass" and r.signer is not None and r.signer.name == "Maya Ross"


# --- report status ---------------------------------------------------------------------------------------
SIGN = "Electronically signed by Ann Low, MD 02/03/2025\n"

STATUS_WORDS_IN_PROSE = [
    _case("a conditional plan line", "Plan note: if not approved by her insurer, switch to alendronate.\n" + SIGN),
    _case("an insurance authorisation waiting for "
          "approval", "Prior authorization for denosumab pending approval.\n" + SIGN),
    _case("a medication list to review", "Medication list needs review at next visit.\n" + SIGN),
    _case("preliminary trial "
          "results", "Note: preliminary results of the FRAME trial support romosozumab here.\n" + SIGN),
    _case("a letter to draft", "Plan: draft a letter to the PCP about a bisphosphonate holiday.\n" + SIGN),
    _case("a draft finalised by the radiologist",
          "[Dictated with Dragon - draft]\nTranscription edited and finalised by the reporting radiologist.\n" + SIGN),
    _case("a final report after a fellow's preliminary read",
          "Final report. E-signed by Tom Berg, MD (Attending) after review of the fellow's preliminary read.\n"),
    _case("a result history listing the preliminary version before the final one",
          SIGN + "Result history: Final result (02/03/2025 3:12 PM)   Preliminary result (02/03/2025 11:58 AM)\n"),
    _case("an administrative addendum after the signature",
          SIGN + "\nADDENDUM 02/05/2025: the patient's surname was misspelled and is corrected. "
                 "No change to the TBS, the risk assessment or the recommendations.\n"),
    _case("an attending finalising a registrar's report",
          "Reported by Yuri Sato, MBBS (Radiology Registrar).\n"
          "Verified and electronically signed by Dr Ann Low, FRCR, Consultant Radiologist 02/04/2025\n"),
]


@pytest.mark.parametrize("block", STATUS_WORDS_IN_PROSE)
def test_status_words_that_are_not_about_the_report_leave_a_final_report_final(checker: Checker, block: str) -> None:
    sig = checker.check_text(report(block)).elements["signature"]
    assert sig.satisfied, sig.reason


REPORT_NOT_FINAL = [
    _case("a preliminary interpretation to be reviewed", "Preliminary interpretation - to be reviewed by the "
                                                         "attending.\n" + SIGN),
    _case("a draft status line", "THIS IS A DRAFT\n" + SIGN),
    _case("a one-sentence draft statement", "This is a draft.\n" + SIGN),
    _case("a report not yet verified", "Report not yet verified.\n" + SIGN),
    _case("verification pending after the signature", SIGN + "Verification pending.\n"),
    _case("a dictation draft never finalised", "[Dictated with Dragon - draft]\n" + SIGN),
    _case("a preliminary report signed by a consultant only",
          "PRELIMINARY REPORT\nElectronically signed by Dr Ann Low MBBS, Consultant Radiologist, 02/03/2025\n"),
    _case("a result status line", "Result status: Preliminary result\n" + SIGN),
    _case("an unsigned addendum after the "
          "signature", SIGN + "ADDENDUM 02/05/2025 (unsigned): TBS corrected to 1.290.\n"),
    _case("an addendum with no signature of its own that changes the plan",
          SIGN + "\nAmendment 02/06/2025: recommendation changed to start alendronate.\n"),
    _case("a provisional report awaiting "
          "verification", "PROVISIONAL REPORT - awaiting consultant verification\n" + SIGN),
    _case("an unticked signature box", "[ ] Electronically signed by Ann Low, MD\n"),
    _case("a preliminary HL7 result status",
          "OBR|1|A1|B2|DXA^DXA WITH TBS|||20250203||||||||||||||||||P\nOBX|1|TX|SIG^Signature||Electronically signed "
          "by Ann Low, MD||||||P\n"),
]


@pytest.mark.parametrize("block", REPORT_NOT_FINAL)
def test_a_report_that_states_it_is_not_final_fails_the_signature(checker: Checker, block: str) -> None:
    r = checker.check_text(report(block))
    assert not r.elements["signature"].satisfied, r.elements["signature"].reason
    assert r.signature_status != "final"
