"""FHIR .json: a lone DiagnosticReport, or the DiagnosticReports of a Bundle, each with its report text."""

from __future__ import annotations

import base64
import binascii
import json
import re

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers.base import _describe, _Item, _normalise_newlines, _Unreadable, _valid_unicode
from tbs_doccheck.readers.html_text import _html_to_text
from tbs_doccheck.readers.text import _decode_text

#: FHIR R4/R5 resource types: the only "resourceType" values an error message may repeat.
#: Any other string came from the file and might be anything (a name, an MRN), so it is
#: never echoed.
_FHIR_RESOURCE_TYPES = frozenset(
    {
        "Account", "ActivityDefinition", "ActorDefinition", "AdministrableProductDefinition",
        "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse",
        "ArtifactAssessment", "AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct",
        "BiologicallyDerivedProductDispense", "BodyStructure", "Bundle", "CanonicalResource",
        "CapabilityStatement", "CarePlan", "CareTeam", "CatalogEntry", "ChargeItem",
        "ChargeItemDefinition", "Citation", "Claim", "ClaimResponse", "ClinicalImpression",
        "ClinicalUseDefinition", "CodeSystem", "Communication", "CommunicationRequest",
        "CompartmentDefinition", "Composition", "ConceptMap", "Condition", "ConditionDefinition",
        "Consent", "Contract", "Coverage", "CoverageEligibilityRequest",
        "CoverageEligibilityResponse", "DetectedIssue", "Device", "DeviceAssociation",
        "DeviceDefinition", "DeviceDispense", "DeviceMetric", "DeviceRequest", "DeviceUsage",
        "DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference",
        "DomainResource", "EffectEvidenceSynthesis", "Encounter", "EncounterHistory", "Endpoint",
        "EnrollmentRequest", "EnrollmentResponse", "EpisodeOfCare", "EventDefinition", "Evidence",
        "EvidenceReport", "EvidenceVariable", "ExampleScenario", "ExplanationOfBenefit",
        "FamilyMemberHistory", "Flag", "FormularyItem", "GenomicStudy", "Goal", "GraphDefinition",
        "Group", "GuidanceResponse", "HealthcareService", "ImagingSelection", "ImagingStudy",
        "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation",
        "ImplementationGuide", "Ingredient", "InsurancePlan", "InventoryItem", "InventoryReport",
        "Invoice", "Library", "Linkage", "List", "Location", "ManufacturedItemDefinition",
        "Measure", "MeasureReport", "Media", "Medication", "MedicationAdministration",
        "MedicationDispense", "MedicationKnowledge", "MedicationRequest", "MedicationStatement",
        "MedicationUsage", "MedicinalProduct", "MedicinalProductAuthorization",
        "MedicinalProductContraindication", "MedicinalProductDefinition",
        "MedicinalProductIndication", "MedicinalProductIngredient", "MedicinalProductInteraction",
        "MedicinalProductManufactured", "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "MessageDefinition",
        "MessageHeader", "MetadataResource", "MolecularSequence", "NamingSystem", "NutritionIntake",
        "NutritionOrder", "NutritionProduct", "Observation", "ObservationDefinition",
        "OperationDefinition", "OperationOutcome", "Organization", "OrganizationAffiliation",
        "PackagedProductDefinition", "Parameters", "Patient", "PaymentNotice",
        "PaymentReconciliation", "Permission", "Person", "PlanDefinition", "Practitioner",
        "PractitionerRole", "Procedure", "Provenance", "Questionnaire", "QuestionnaireResponse",
        "RegulatedAuthorization", "RelatedPerson", "RequestGroup", "RequestOrchestration",
        "Requirements", "ResearchDefinition", "ResearchElementDefinition", "ResearchStudy",
        "ResearchSubject", "Resource", "RiskAssessment", "RiskEvidenceSynthesis", "Schedule",
        "SearchParameter", "ServiceRequest", "Slot", "Specimen", "SpecimenDefinition",
        "StructureDefinition", "StructureMap", "Subscription", "SubscriptionStatus",
        "SubscriptionTopic", "Substance", "SubstanceDefinition", "SubstanceNucleicAcid",
        "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation",
        "SubstanceSourceMaterial", "SubstanceSpecification", "SupplyDelivery", "SupplyRequest",
        "Task", "TerminologyCapabilities", "TestPlan", "TestReport", "TestScript", "Transport",
        "ValueSet", "VerificationResult", "VisionPrescription"
    }
)  # fmt: skip


def _read_fhir(data: bytes) -> tuple[list[_Item], bool]:
    """A DiagnosticReport (single report) or the DiagnosticReports of a Bundle."""
    try:
        # json.loads on bytes detects UTF-8/16/32 (with or without BOM) itself.
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        # The decoder's own message is a fixed phrase and a position: no content.
        raise _Unreadable(
            ErrorCode.BAD_JSON,
            f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except UnicodeDecodeError:
        raise _Unreadable(
            ErrorCode.BAD_JSON,
            "is not valid JSON: expected UTF-8 text, got bytes in another encoding",
        ) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise _Unreadable(ErrorCode.BAD_JSON, f"is not valid JSON ({type(exc).__name__})") from None
    except RecursionError:
        raise _Unreadable(ErrorCode.BAD_JSON, "is not valid JSON: nested too deeply") from None

    if not isinstance(document, dict):
        kind = "a JSON array" if isinstance(document, list) else "a bare JSON value"
        raise _Unreadable(
            ErrorCode.BAD_FHIR, f"expected a FHIR DiagnosticReport or Bundle, got {kind}"
        )
    resource_type = document.get("resourceType")
    if resource_type == "DiagnosticReport":
        return [_fhir_report(document, None)], False
    if resource_type == "Bundle":
        return _fhir_bundle(document), True
    raise _Unreadable(
        ErrorCode.BAD_FHIR,
        f"expected a FHIR DiagnosticReport or Bundle, got {_resource_label(resource_type)}",
    )


def _resource_label(resource_type: object) -> str:
    if resource_type is None:
        return "JSON with no resourceType"
    if isinstance(resource_type, str) and resource_type in _FHIR_RESOURCE_TYPES:
        return f"a FHIR {resource_type} resource"
    return "an unrecognised resourceType"  # never echo arbitrary strings from the file


def _fhir_bundle(bundle: dict) -> list[_Item]:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise _Unreadable(ErrorCode.BAD_FHIR, "is a FHIR Bundle whose 'entry' is not a list")
    items: list[_Item] = []
    found: list[str] = []
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        resource_type = resource.get("resourceType")
        if resource_type == "DiagnosticReport":
            items.append(_fhir_report(resource, f"Bundle entry {number}"))
        elif isinstance(resource_type, str):
            # Only known type names are repeated: any other string might be anything.
            known = resource_type in _FHIR_RESOURCE_TYPES
            found.append(resource_type if known else "an unrecognised resourceType")
    if not items:
        seen = ", ".join(sorted(set(found))) or "nothing"
        raise _Unreadable(
            ErrorCode.BAD_FHIR,
            f"is a FHIR Bundle with no DiagnosticReport entry (found: {seen})",
        )
    return items


def _fhir_report(resource: dict, where: str | None) -> _Item:
    raw_id = resource.get("id")
    report_id = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else None
    if report_id is not None:
        report_id = _valid_unicode(report_id)
    label = f"{where}: DiagnosticReport" if where else "DiagnosticReport"
    try:
        text = _fhir_text(resource, label)
    except _Unreadable as exc:
        return _Item(report_id, code=exc.code, problem=exc.problem)
    return _Item(report_id, text=_valid_unicode(text))


def _fhir_text(resource: dict, label: str) -> str:
    """presentedForm text/plain, else text/html, else conclusion plus narrative."""
    forms = resource.get("presentedForm", [])
    if not isinstance(forms, list):
        raise _Unreadable(ErrorCode.BAD_FHIR, f"{label} has a presentedForm that is not a list")
    by_type: dict[str, str] = {}
    for index, form in enumerate(forms):
        if not isinstance(form, dict):
            raise _Unreadable(
                ErrorCode.BAD_FHIR, f"{label} presentedForm[{index}] is not an Attachment object"
            )
        content_type = str(form.get("contentType") or "").split(";")[0].strip().lower()
        if content_type not in ("text/plain", "text/html") or content_type in by_type:
            continue
        encoded = form.get("data")
        if encoded is None:
            continue  # a url-only attachment: fetching it is not this module's job
        if not isinstance(encoded, str):
            raise _Unreadable(
                ErrorCode.BAD_FHIR, f"{label} presentedForm[{index}].data is not a base64 string"
            )
        try:
            raw = base64.b64decode(re.sub(r"\s+", "", encoded), validate=True)
        except (binascii.Error, ValueError):
            raise _Unreadable(
                ErrorCode.BAD_FHIR, f"{label} presentedForm[{index}].data is not valid base64"
            ) from None
        try:
            decoded = _decode_text(raw)
        except _Unreadable:
            raise _Unreadable(
                ErrorCode.BAD_FHIR,
                f"{label} presentedForm[{index}] says {content_type} but holds {_describe(raw)}",
            ) from None
        if content_type == "text/html":
            decoded = _html_to_text(decoded)
        if decoded.strip():
            by_type[content_type] = decoded
    for content_type in ("text/plain", "text/html"):
        if content_type in by_type:
            return by_type[content_type]

    parts: list[str] = []
    conclusion = resource.get("conclusion")
    if isinstance(conclusion, str) and conclusion.strip():
        parts.append(_normalise_newlines(conclusion.strip()))
    narrative = resource.get("text")
    if isinstance(narrative, dict) and isinstance(narrative.get("div"), str):
        narrative_text = _html_to_text(narrative["div"])
        if narrative_text.strip():
            parts.append(narrative_text)
    if not parts:
        raise _Unreadable(
            ErrorCode.NO_REPORT_TEXT,
            f"{label} has no report text: expected a text/plain or text/html presentedForm, "
            "a conclusion or a narrative, found none",
        )
    return "\n\n".join(parts)
