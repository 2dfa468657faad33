"""Paths to report inputs: every supported format, and an error record for every file that can't be read."""

from __future__ import annotations

import base64
import binascii
import errno
import io
import json
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from tbs_doccheck.models import ErrorCode, ReadError, ReportInput

if TYPE_CHECKING:
    from hl7 import Segment
    from lxml.etree import _Element

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "discover",
    "iter_inputs",
    "read_path",
]

#: File name suffixes (lower case) that :func:`read_path` knows how to read.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".text", ".docx", ".pdf", ".rtf", ".hl7", ".json"}
)

#: Largest file :func:`read_path` reads unless told otherwise; reports are small, so a
#: bigger file is far more likely a mistake (or an attack) than a report.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

# A .docx is a zip: its size on disk says little about what python-docx will hold in
# memory, so the unzipped size and the compression ratio are capped separately.
_MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
_MAX_ZIP_MEMBERS = 5_000
_MAX_ZIP_RATIO = 100
# Tiny members can have absurd ratios (an empty XML part) without any danger.
_ZIP_RATIO_FLOOR = 1024 * 1024

# Above this share of control characters, "text" is really binary data decoded by force.
_MAX_CONTROL_SHARE = 0.05

_UTF8_BOM = b"\xef\xbb\xbf"
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian mark begins with the UTF-16 one.
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
    (_UTF8_BOM, "utf-8-sig", "UTF-8"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)
# C0 controls except tab/LF/VT/FF/CR, DEL, C1 controls and the replacement character.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
# JSON's "\\ud800" escapes and RTF's "\\u-10240?" give surrogate code points, which no UTF-8
# output (nor spaCy) can take: see _valid_unicode.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

# Magic numbers let an error say what a misnamed file really is without quoting it.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"%PDF-", "a PDF"),
    (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (such as a .doc)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "gzip data"),
)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Word keeps deleted text in w:delText and field codes in w:instrText, so neither is
# matched below; properties and compatibility fallbacks would only duplicate text.
_DOCX_SKIP = frozenset({_W + "pPr", _W + "rPr", _W + "tblPr", _W + "tcPr", _MC_FALLBACK})

_HL7_TEXT_TYPES = frozenset({"TX", "FT", "ST", ""})
_HL7_FRAMING = (b"\x0b", b"\x1c")  # MLLP start/end bytes left in captured feeds

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


class _Unreadable(Exception):
    """Raised inside the readers; :func:`read_path` turns it into a :class:`ReadError`.

    ``problem`` describes the file's shape only: :func:`read_path` prefixes the path,
    and nothing from the file's text may ever be put in it.
    """

    def __init__(self, code: ErrorCode, problem: str) -> None:
        super().__init__(code, problem)
        self.code = code
        self.problem = problem


@dataclass(frozen=True)
class _Item:
    """One report found inside a file, or why that one report could not be read."""

    id: str | None
    text: str | None = None
    code: ErrorCode | None = None
    problem: str | None = None


# --------------------------------------------------------------------------- discovery


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expands files and folders into the files to read and the files passed over.

    Folders are walked recursively, following symlinks but never into a folder already
    walked, so a symlink loop ends. Hidden folders (``.git``...) are not entered; hidden
    files and Office lock files (``~$x.docx``) are listed as skipped.

    Args:
        paths: Files and/or folders, as the user gave them.

    Returns:
        ``(supported, skipped)``, each sorted by path. ``supported`` holds every file
        with a suffix in :data:`SUPPORTED_SUFFIXES`, plus every path given explicitly
        that does not exist or cannot be looked at (so :func:`read_path` reports it,
        e.g. as E001) and every folder that cannot be listed. ``skipped`` holds the
        files of other types and special files (FIFOs, sockets, devices).
    """
    supported, skipped = discover_sources(paths)
    return [Path(s) for s in supported], [Path(s) for s in skipped]


def discover_sources(paths: Iterable[str | Path]) -> tuple[list[str], list[str]]:
    """:func:`discover`, as path strings: the same files in the same order, in a fraction of the memory.

    An audit of a large folder holds every path at once; a ``Path`` costs about four times its string.
    """
    if isinstance(paths, (str, os.PathLike)):
        # A lone path would otherwise be iterated character by character.
        paths = [paths]
    supported: set[str] = set()
    skipped: set[str] = set()
    walked: set[tuple[int, int]] = set()
    for given in paths:
        path = os.fspath(Path(given))  # normalised as Path would have it
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            # Missing, dangling, looping or forbidden: read_path names the problem.
            supported.add(path)
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(path, info, walked, supported, skipped)
        elif _suffix(path) in SUPPORTED_SUFFIXES:
            # Even a FIFO named like a report is kept: read_path says why it can't be read.
            supported.add(path)
        else:
            skipped.add(path)
    return sorted(supported, key=path_order), sorted(skipped, key=path_order)


def path_order(path: str) -> object:
    """A sort key giving paths the order ``sorted()`` gives the same ``Path`` objects.

    Paths compare part by part, which on POSIX is the string order with the separator below every
    other character (NUL, which no name holds); the root ("/", or "//") is a part of its own.
    """
    if os.sep != "/":  # pragma: no cover - Windows paths compare case-insensitively, with drives
        return PurePath(path)
    if path.startswith("/"):
        root = "//" if path.startswith("//") else "/"
        return root + "\0" + path[len(root):].replace("/", "\0")
    return "" if path == "." else path.replace("/", "\0")  # "." has no parts: it sorts first


def _suffix(path: str) -> str:
    """``Path(path).suffix.lower()`` without building a Path."""
    name = os.path.basename(path)
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def _join(folder: str, name: str) -> str:
    return name if folder == "." else os.path.join(folder, name)


def _walk(
    root: str,
    root_info: os.stat_result,
    walked: set[tuple[int, int]],
    supported: set[str],
    skipped: set[str],
) -> None:
    # An explicit stack, not recursion: a deep tree must not hit the recursion limit.
    stack: list[tuple[str, os.stat_result]] = [(root, root_info)]
    while stack:
        folder, info = stack.pop()
        key = (info.st_dev, info.st_ino)
        if key in walked:
            continue  # reached again through a symlink: this is what ends loops
        walked.add(key)
        try:
            with os.scandir(folder) as scan:
                names = sorted(entry.name for entry in scan)
        except OSError:
            # Listing it as a report lets read_path say why it could not be listed.
            supported.add(folder)
            continue
        subfolders: list[tuple[str, os.stat_result]] = []
        for name in names:
            child = _join(folder, name)
            try:
                child_info = os.stat(child)
            except OSError:
                # Dangling or looping symlink: a report-named one is still reported.
                (supported if _suffix(child) in SUPPORTED_SUFFIXES else skipped).add(child)
                continue
            if stat.S_ISDIR(child_info.st_mode):
                if not name.startswith("."):
                    subfolders.append((child, child_info))
            elif not stat.S_ISREG(child_info.st_mode):
                skipped.add(child)  # FIFOs and devices would block or never end
            elif name.startswith((".", "~$")) or _suffix(child) not in SUPPORTED_SUFFIXES:
                skipped.add(child)
            else:
                supported.add(child)
        # Reversed so folders pop in name order, keeping which symlink wins stable.
        stack.extend(reversed(subfolders))


def iter_inputs(
    paths: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[ReportInput]:
    """Reads every supported file under ``paths``, one report at a time.

    Files are read lazily in :func:`discover` order, so a caller can show progress and
    hold only one file in memory. Skipped files are not yielded; call :func:`discover`
    to list them.

    Args:
        paths: Files and/or folders.
        max_bytes: Size limit per file, as for :func:`read_path`.

    Yields:
        The reports of each file in turn, errors included, in a stable order.
    """
    supported, _skipped = discover_sources(paths)
    for path in supported:
        yield from read_path(path, max_bytes=max_bytes)


# --------------------------------------------------------------------------- reading


def read_path(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[ReportInput]:
    """Reads one file into the reports it holds.

    Never raises for bad input: whatever is wrong with the file comes back as an error
    record. Error messages name the file and the problem, never the file's contents.

    Args:
        path: The file. Kept as given in ``source``.
        max_bytes: Files larger than this are refused (E004) without being read.

    Returns:
        At least one :class:`ReportInput`. Single-report files (.txt, .docx, .pdf, .rtf,
        a lone FHIR DiagnosticReport) give one, with ``id`` the file name without its
        extension and ``position`` None. Containers (.hl7, a FHIR Bundle) give one per
        report with ``position`` 1..n: ids come from OBR-3, else OBR-2 (HL7) or the
        resource id (FHIR), else ``<stem>#<n>``; a report inside a container that cannot
        be read becomes an error record in its place while the others are still read.
        A file that cannot be read at all gives exactly one record, with ``error`` set
        and ``text`` None.
    """
    source = os.fspath(path)
    stem = Path(source).stem or source
    try:
        items, is_container = _read_items(Path(source), max_bytes)
    except _Unreadable as exc:
        return [_file_error(stem, source, exc.code, exc.problem)]
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises for bad input"
        # Only the type: an exception's text may quote the document.
        return [
            _file_error(
                stem,
                source,
                ErrorCode.INTERNAL,
                f"internal error while reading ({type(exc).__name__})",
            )
        ]

    if all(item.code is not None for item in items):
        # Nothing readable: one record for the file, as for any other unreadable file.
        first = items[0]
        problem = first.problem or "could not be read"
        if len(items) > 1:
            problem = f"none of its {len(items)} reports could be read; the first: {problem}"
        return [_file_error(stem, source, first.code or ErrorCode.INTERNAL, problem)]

    if not is_container:
        (item,) = items
        return [ReportInput(id=item.id or stem, text=item.text, source=source)]

    reports = []
    for position, item in enumerate(items, start=1):
        report_id = item.id or f"{stem}#{position}"
        if item.code is not None:
            error = ReadError(code=item.code, message=f"{source}: {item.problem}")
            reports.append(ReportInput(id=report_id, source=source, position=position, error=error))
        else:
            reports.append(
                ReportInput(id=report_id, text=item.text, source=source, position=position)
            )
    return reports


def _file_error(stem: str, source: str, code: ErrorCode, problem: str) -> ReportInput:
    return ReportInput(
        id=stem, source=source, error=ReadError(code=code, message=f"{source}: {problem}")
    )


def _read_items(path: Path, max_bytes: int) -> tuple[list[_Item], bool]:
    """Returns the file's reports and whether the file is a multi-report container."""
    data = _read_bytes(path, max_bytes)
    suffix = path.suffix.lower()
    if not data.strip():
        raise _Unreadable(ErrorCode.EMPTY, "is empty (expected report text)")
    if suffix in (".txt", ".text"):
        return [_Item(None, _require_text(_decode_text(data)))], False
    if suffix == ".docx":
        return [_Item(None, _require_text(_read_docx(data)))], False
    if suffix == ".pdf":
        return [_Item(None, _read_pdf(data))], False
    if suffix == ".rtf":
        return [_Item(None, _require_text(_read_rtf(data)))], False
    if suffix == ".hl7":
        return _read_hl7(data), True
    if suffix == ".json":
        return _read_fhir(data)
    raise AssertionError(f"suffix {suffix!r} passed _read_bytes")  # pragma: no cover


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Checks the path with stat before opening it, then reads at most ``max_bytes + 1``."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise _Unreadable(
                ErrorCode.NOT_FOUND, "does not exist (it is a symlink to a missing file)"
            ) from None
        raise _Unreadable(ErrorCode.NOT_FOUND, "does not exist") from None
    except NotADirectoryError:
        raise _Unreadable(
            ErrorCode.NOT_FOUND, "does not exist (a parent in the path is a file)"
        ) from None
    except PermissionError:
        raise _Unreadable(
            ErrorCode.PERMISSION, "cannot be looked at: permission denied on a parent folder"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Unreadable(ErrorCode.SYMLINK_LOOP, "is a symlink loop") from None
        raise _Unreadable(ErrorCode.INTERNAL, f"cannot be looked at: {_os_error(exc)}") from None
    except ValueError:  # no file system allows a NUL byte in a name
        raise _Unreadable(ErrorCode.NOT_FOUND, "does not exist (the path holds a NUL byte)") from None

    if stat.S_ISDIR(info.st_mode):
        try:
            with os.scandir(path):
                pass
        except PermissionError:
            raise _Unreadable(
                ErrorCode.PERMISSION, "is a folder that cannot be listed: permission denied"
            ) from None
        except OSError as exc:
            raise _Unreadable(
                ErrorCode.INTERNAL, f"is a folder that cannot be listed: {_os_error(exc)}"
            ) from None
        raise _Unreadable(ErrorCode.UNSUPPORTED, "is a folder, expected a report file")
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO or a device could block forever or never reach end of file.
        raise _Unreadable(
            ErrorCode.UNSUPPORTED, "is not a regular file (a pipe, socket or device?)"
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        expected = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise _Unreadable(
            ErrorCode.UNSUPPORTED,
            f"has an unsupported type {suffix or '(no extension)'!r}; expected one of {expected}",
        )
    if info.st_size > max_bytes:
        raise _Unreadable(ErrorCode.TOO_LARGE, _too_large(info.st_size, max_bytes))

    try:
        with open(path, "rb") as handle:
            # One byte over the limit is enough to notice a file that grew after stat.
            data = handle.read(max_bytes + 1)
    except PermissionError:
        raise _Unreadable(ErrorCode.PERMISSION, "cannot be read: permission denied") from None
    except OSError as exc:
        raise _Unreadable(ErrorCode.INTERNAL, f"cannot be read: {_os_error(exc)}") from None
    if len(data) > max_bytes:
        raise _Unreadable(ErrorCode.TOO_LARGE, _too_large(len(data), max_bytes, at_least=True))
    return data


def _too_large(size: int, max_bytes: int, *, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return f"is {more}{size:,} bytes, over the {max_bytes:,}-byte limit"


def _os_error(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "unknown")
    return f"{exc.strerror or 'OS error'} ({name})"


def _require_text(text: str) -> str:
    if not text.strip():
        raise _Unreadable(ErrorCode.EMPTY, "has no text (expected report text)")
    return text


def _valid_unicode(text: str) -> str:
    """``text`` with surrogate pairs joined into their character and lone surrogates as U+FFFD.

    RTF spells characters beyond U+FFFF as two ``\\uN`` UTF-16 halves, and JSON may escape a
    lone half: either way Python holds code points that cannot be encoded as UTF-8.
    """
    if not _SURROGATE_RE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _describe(data: bytes) -> str:
    """Names what the bytes look like, without quoting any of them."""
    head = data[:1024].removeprefix(_UTF8_BOM).lstrip()
    if not head:
        return "an empty file"
    for signature, label in _SIGNATURES:
        if head.startswith(signature):
            return label
    if head[:3] in (b"MSH", b"FHS", b"BHS"):
        return "an HL7 message"
    if b"\x00" in head or _control_share(head.decode("latin-1")) > _MAX_CONTROL_SHARE:
        return "binary data"
    if head[:1] in (b"{", b"["):
        return "JSON-like text"
    if head[:1] == b"<":
        return "XML or HTML markup"
    return "plain text"


def _describe_binary(data: bytes) -> str:
    """Like :func:`_describe`, for bytes already known not to be text."""
    description = _describe(data)
    known = {label for _signature, label in _SIGNATURES} - {"an RTF document"}
    return description if description in known else "binary data"


# --------------------------------------------------------------------------- plain text


def _control_share(text: str) -> float:
    return len(_CONTROL_RE.findall(text)) / len(text) if text else 0.0


def _decode_text(data: bytes) -> str:
    """Decodes bytes the way a text editor would guess them, deterministically.

    BOMs win; then UTF-8; then cp1252 (what Windows report systems write), then latin-1
    which cannot fail. No statistical detection, so the same bytes always give the
    same text.

    Raises:
        _Unreadable: E005 for binary data, E006 when a BOM promises an encoding the
            bytes do not follow.
    """
    text: str | None = None
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise _Unreadable(
                    ErrorCode.UNDECODABLE,
                    f"starts with a {name} byte-order mark but is not valid {name} text",
                ) from None
            break
    else:
        if b"\x00" in data:
            text = _decode_bomless_utf16(data)
            if text is None:
                raise _Unreadable(
                    ErrorCode.BINARY,
                    f"contains NUL bytes: expected text, got {_describe_binary(data)}",
                )
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    text = data.decode("cp1252")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
    text = text.removeprefix("\ufeff")
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise _Unreadable(
            ErrorCode.BINARY,
            f"is mostly non-text characters: expected text, got {_describe_binary(data)}",
        )
    return _normalise_newlines(text)


def _decode_bomless_utf16(data: bytes) -> str | None:
    # ASCII-range UTF-16 has a NUL in every other byte and none in between; anything
    # else with NULs in it is binary.
    if len(data) % 2:
        return None
    for codec, zeros, chars in (
        ("utf-16-le", data[1::2], data[0::2]),
        ("utf-16-be", data[0::2], data[1::2]),
    ):
        if zeros.count(0) >= 0.9 * len(zeros) and chars.count(0) == 0:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


# --------------------------------------------------------------------------- .docx


def _read_docx(data: bytes) -> str:
    """Paragraphs and table rows of a Word document, in reading order."""
    if not data.startswith(b"PK"):
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX, f"expected a .docx (zip) file, got {_describe(data)}"
        )
    _check_zip(data)

    import docx  # imported on first use: runs without Word files skip its import cost

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for bad packages
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            f"is a zip archive but not a readable Word document ({type(exc).__name__})",
        ) from None
    return _normalise_newlines("\n".join(_docx_blocks(body)))


def _check_zip(data: bytes) -> None:
    """Refuses broken zips and zip bombs before python-docx unzips every part into memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
    except Exception:  # noqa: BLE001 - BadZipFile, EOFError, NotImplementedError for odd methods...
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            "expected a .docx (zip) file, got a corrupt or truncated zip archive",
        ) from None
    if len(members) > _MAX_ZIP_MEMBERS:
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            f"holds {len(members):,} zip entries, expected at most {_MAX_ZIP_MEMBERS:,} in a .docx",
        )
    # zipfile stops each member at its declared size, so the declared sizes are a
    # real bound on what unzipping can produce.
    unzipped = sum(member.file_size for member in members)
    if unzipped > _MAX_UNZIPPED_BYTES:
        raise _Unreadable(
            ErrorCode.TOO_LARGE,
            f"unzips to {unzipped:,} bytes, "
            f"over the {_MAX_UNZIPPED_BYTES:,}-byte limit for a .docx",
        )
    for member in members:
        if member.file_size > _ZIP_RATIO_FLOOR and member.file_size > _MAX_ZIP_RATIO * max(
            member.compress_size, 1
        ):
            raise _Unreadable(
                ErrorCode.CORRUPT_DOCX,
                f"looks like a zip bomb: an entry compressed more than {_MAX_ZIP_RATIO}:1",
            )
    if "[Content_Types].xml" not in names:
        raise _Unreadable(
            ErrorCode.CORRUPT_DOCX,
            "expected a .docx, got a zip archive that is not an Office document "
            "(no [Content_Types].xml)",
        )


def _docx_blocks(container: _Element) -> Iterator[str]:
    """Yields one line per paragraph and per table row, in document order."""
    for child in _docx_children(container, (_W + "p", _W + "tbl")):
        if child.tag == _W + "p":
            yield _docx_paragraph(child)
        else:
            yield from _docx_table(child)


def _docx_children(element: _Element, tags: tuple[str, ...]) -> Iterator[_Element]:
    """Children with one of ``tags``, looking through content controls and custom XML.

    Those wrappers can hold paragraphs, rows or cells anywhere; their text is as much
    part of the document as unwrapped text.
    """
    for child in element.iterchildren():
        if child.tag in tags:
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_children(content, tags)
        elif child.tag in (_W + "customXml", _W + "ins", _W + "smartTag"):
            yield from _docx_children(child, tags)


def _docx_table(table: _Element) -> Iterator[str]:
    for row in _docx_children(table, (_W + "tr",)):
        cells = []
        for cell in _docx_children(row, (_W + "tc",)):
            lines = (line.strip() for line in _docx_blocks(cell))
            cells.append(" ".join(line for line in lines if line))
        yield " | ".join(cells)


def _docx_paragraph(paragraph: _Element) -> str:
    parts: list[str] = []

    def visit(element: _Element) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in _DOCX_SKIP:
                continue
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag == _W + "tab":
                parts.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            elif tag == _W + "p":
                # A text box paragraph inside this one: keep it on its own line.
                parts.append("\n")
                visit(child)
                parts.append("\n")
            else:
                visit(child)

    visit(paragraph)
    return "".join(parts)


# --------------------------------------------------------------------------- .pdf


def _read_pdf(data: bytes) -> str:
    """The text layer of every page, pages joined by newlines."""
    if b"%PDF-" not in data[:1024]:
        raise _Unreadable(
            ErrorCode.CORRUPT_PDF, f"expected a PDF (starting '%PDF-'), got {_describe(data)}"
        )
    # pypdf recovers what it can from a cut-off file; half a report would then be
    # judged as if it were the whole one, so a missing end marker is an error.
    if b"%%EOF" not in data[-2048:]:
        raise _Unreadable(
            ErrorCode.CORRUPT_PDF, "is truncated: expected a '%%EOF' marker at its end, found none"
        )

    from pypdf import PdfReader  # imported on first use, like python-docx
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Many PDFs are encrypted only to restrict printing, with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Unreadable(ErrorCode.ENCRYPTED_PDF, "is encrypted and needs a password")
        pages = list(reader.pages)
        texts = [page.extract_text() or "" for page in pages]
    except _Unreadable:
        raise
    except DependencyError:
        raise _Unreadable(
            ErrorCode.ENCRYPTED_PDF,
            "is encrypted with AES, which needs the optional 'cryptography' package to open",
        ) from None
    except FileNotDecryptedError:
        raise _Unreadable(ErrorCode.ENCRYPTED_PDF, "is encrypted and needs a password") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for damaged files
        raise _Unreadable(
            ErrorCode.CORRUPT_PDF, f"is a damaged PDF that could not be read ({type(exc).__name__})"
        ) from None
    if not pages:
        raise _Unreadable(ErrorCode.CORRUPT_PDF, "has no pages")
    text = _normalise_newlines("\n".join(texts))
    if not text.strip():
        raise _Unreadable(ErrorCode.NO_TEXT_LAYER, "has no text layer (scanned image?)")
    return text


# --------------------------------------------------------------------------- .rtf


def _read_rtf(data: bytes) -> str:
    body = data.removeprefix(_UTF8_BOM).lstrip()
    if not body.startswith(b"{\\rtf"):
        raise _Unreadable(
            ErrorCode.CORRUPT_RTF,
            f"expected an RTF document starting with '{{\\rtf', got {_describe(data)}",
        )
    try:
        raw = _decode_text(body)
    except _Unreadable:
        raise _Unreadable(
            ErrorCode.CORRUPT_RTF, "expected RTF (7-bit text), got binary data after the header"
        ) from None
    # Unclosed groups mean the end of the file, and with it the report, is missing.
    if _rtf_open_groups(raw) > 0:
        raise _Unreadable(ErrorCode.CORRUPT_RTF, "is truncated: its '{' groups are never closed")

    from striprtf.striprtf import rtf_to_text  # imported on first use

    try:
        text = rtf_to_text(raw, errors="replace")
    except Exception as exc:  # noqa: BLE001 - striprtf is a regex scanner with few guarantees
        raise _Unreadable(
            ErrorCode.CORRUPT_RTF, f"could not be parsed as RTF ({type(exc).__name__})"
        ) from None
    return _valid_unicode(_normalise_newlines(text))


def _rtf_open_groups(raw: str) -> int:
    depth = 0
    for match in re.finditer(r"\\[\\{}]|[{}]", raw):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return 0  # text after the outer group is ignored, as Word does
    return depth


# --------------------------------------------------------------------------- .hl7


@dataclass(frozen=True)
class _Delimiters:
    field: str
    component: str
    repetition: str
    escape: str
    subcomponent: str


def _read_hl7(data: bytes) -> list[_Item]:
    """One item per OBR of every message in the file."""
    for framing in _HL7_FRAMING:
        data = data.replace(framing, b"")
    try:
        text = _decode_text(data)
    except _Unreadable:
        raise _Unreadable(
            ErrorCode.BAD_HL7, f"expected HL7 v2 text, got {_describe_binary(data)}"
        ) from None
    segments = [segment.strip() for segment in text.split("\n")]
    segments = [segment for segment in segments if segment]
    if not segments or segments[0][:3] not in ("MSH", "FHS", "BHS"):
        raise _Unreadable(
            ErrorCode.BAD_HL7,
            f"expected HL7 v2 messages starting with an MSH segment, got {_describe(data)}",
        )

    messages: list[list[str]] = []
    for segment in segments:
        kind = segment[:3]
        if kind in ("FHS", "BHS", "FTS", "BTS"):
            continue  # file and batch envelopes carry no report
        if kind == "MSH":
            messages.append([segment])
        elif messages:
            messages[-1].append(segment)
    if not messages:
        raise _Unreadable(
            ErrorCode.BAD_HL7, "has HL7 file/batch headers but no MSH segment (no message)"
        )

    items: list[_Item] = []
    for number, message in enumerate(messages, start=1):
        items.extend(_hl7_message(message, number))
    return items


def _hl7_message(segments: list[str], number: int) -> list[_Item]:
    delimiters = _hl7_delimiters(segments[0])
    if delimiters is None:
        return [
            _Item(
                None,
                code=ErrorCode.BAD_HL7,
                problem=f"message {number}: the MSH segment does not declare valid delimiters",
            )
        ]

    import hl7  # imported on first use

    try:
        # The package reads the delimiters from MSH itself, odd ones included.
        message = hl7.parse("\r".join(segments))
    except Exception as exc:  # noqa: BLE001 - the parser's exceptions are not documented
        return [
            _Item(
                None,
                code=ErrorCode.BAD_HL7,
                problem=f"message {number} could not be parsed as HL7 ({type(exc).__name__})",
            )
        ]

    orders: list[tuple[Segment, list[Segment]]] = []
    orphan_results = 0
    for segment in message:
        name = str(segment[0]).strip()
        if name == "OBR":
            orders.append((segment, []))
        elif name == "OBX":
            if orders:
                orders[-1][1].append(segment)
            else:
                orphan_results += 1
    if not orders:
        missing = (
            "has OBX segments but no OBR segment before them"
            if orphan_results
            else "has no OBR or OBX segments (no report in it)"
        )
        return [_Item(None, code=ErrorCode.BAD_HL7, problem=f"message {number} {missing}")]

    items = []
    for index, (order, results) in enumerate(orders, start=1):
        where = f"message {number}, OBR {index}"
        report_id = _hl7_first_component(order, 3, delimiters) or _hl7_first_component(
            order, 2, delimiters
        )
        if not results:
            items.append(
                _Item(
                    report_id,
                    code=ErrorCode.BAD_HL7,
                    problem=f"{where} has no OBX segments after it",
                )
            )
            continue
        lines: list[str] = []
        text_results = 0
        for result in results:
            value_type = _hl7_first_component(result, 2, delimiters).upper()
            if value_type not in _HL7_TEXT_TYPES:
                continue  # coded and numeric results repeat what the text says
            text_results += 1
            for repetition in _hl7_field(result, 5).split(delimiters.repetition):
                lines.append(_hl7_unescape(repetition, delimiters))
        if not text_results:
            items.append(
                _Item(
                    report_id,
                    code=ErrorCode.BAD_HL7,
                    problem=f"{where} has no text OBX segments (value type TX, FT or ST)",
                )
            )
            continue
        text = _normalise_newlines("\n".join(lines))
        if not text.strip():
            items.append(
                _Item(
                    report_id,
                    code=ErrorCode.EMPTY,
                    problem=f"{where} has OBX segments with no text",
                )
            )
            continue
        items.append(_Item(report_id, text=text))
    return items


def _hl7_delimiters(msh: str) -> _Delimiters | None:
    """The message's own delimiters, or None when MSH-1/MSH-2 make no sense."""
    if len(msh) < 8:
        return None
    field = msh[3]
    end = msh.find(field, 4)
    encoding = msh[4:end] if end != -1 else msh[4:]
    if len(encoding) < 4:
        return None
    chars = [field, *encoding[:4]]
    if len(set(chars)) != len(chars) or any(c.isalnum() or c.isspace() for c in chars):
        return None
    component, repetition, escape, subcomponent = encoding[:4]
    return _Delimiters(field, component, repetition, escape, subcomponent)


def _hl7_field(segment: Segment, index: int) -> str:
    return str(segment[index]) if len(segment) > index else ""


def _hl7_first_component(segment: Segment, index: int, delimiters: _Delimiters) -> str:
    value = _hl7_field(segment, index).split(delimiters.repetition)[0]
    value = value.split(delimiters.component)[0]
    return _hl7_unescape(value, delimiters).strip()


def _hl7_unescape(value: str, delimiters: _Delimiters) -> str:
    """Resolves HL7 escape sequences (\\F\\, \\.br\\, \\X0D\\...) to the text they stand for.

    Written here rather than using ``hl7.unescape``, which logs the whole field (report
    text) when it meets a sequence it does not know.
    """
    escape = delimiters.escape
    if escape not in value:
        return value
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char != escape:
            out.append(char)
            index += 1
            continue
        close = value.find(escape, index + 1)
        if close == -1:
            out.append(value[index:])  # an unterminated escape is literal text
            break
        out.append(_hl7_escape_sequence(value[index + 1 : close], delimiters))
        index = close + 1
    return "".join(out)


def _hl7_escape_sequence(sequence: str, delimiters: _Delimiters) -> str:
    simple = {
        "F": delimiters.field,
        "S": delimiters.component,
        "T": delimiters.subcomponent,
        "R": delimiters.repetition,
        "E": delimiters.escape,
        "H": "",  # highlighting on/off has no plain-text meaning
        "N": "",
        ".br": "\n",
        ".ce": "\n",
        ".fi": "",
        ".nf": "",
    }
    if sequence in simple:
        return simple[sequence]
    if sequence.startswith((".sp", ".sk", ".in", ".ti")):
        try:
            count = int(sequence[3:] or "1")
        except ValueError:
            return ""
        count = max(0, min(count, 100))  # a bogus count must not blow up the text
        if sequence.startswith(".sp"):
            return "\n" * max(count, 1)
        if sequence.startswith(".sk"):
            return " " * count
        return ""  # indents only matter to a printer
    if sequence.startswith("X"):
        try:
            raw = bytes.fromhex(sequence[1:])
        except ValueError:
            return ""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return ""  # character-set switches (C, M) and site-defined (Z) sequences: dropped


# --------------------------------------------------------------------------- FHIR .json


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
