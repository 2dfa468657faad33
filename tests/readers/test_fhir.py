"""Reading FHIR: ids of lone DiagnosticReports, HTML report text, and one report per Bundle entry."""

from __future__ import annotations

from pathlib import Path

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers import read_path

try:  # the helpers sit beside these files; tests/ may or may not become a package
    from tests import formats as F
    from tests.readers.read_helpers import MARKER, write
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]
    from read_helpers import MARKER, write  # type: ignore[no-redef]


# --------------------------------------------------------------------------- DiagnosticReport


def test_a_lone_diagnostic_report_takes_its_resource_id_or_else_the_file_name(
    tmp_path: Path,
) -> None:
    form = [F.attachment("text/plain", F.REPORT_TEXT)]
    with_id = write(
        tmp_path, "a.json", F.json_bytes(F.diagnostic_report("dr-77", presentedForm=form))
    )
    without = write(tmp_path, "b.json", F.json_bytes(F.diagnostic_report(None, presentedForm=form)))

    assert [(r.id, r.position) for r in read_path(with_id)] == [("dr-77", None)]
    assert [(r.id, r.position) for r in read_path(without)] == [("b", None)]


def test_html_presented_form_keeps_line_breaks_for_block_tags_and_drops_styles(
    tmp_path: Path,
) -> None:
    html = (
        "<style>p{color:red}</style><p>Line one<br>Line two</p><div>Line three</div>"
        "<ul><li>Item &amp; more</li></ul><table><tr><td>TBS</td><td>1.254</td></tr></table>"
    )
    path = write(
        tmp_path,
        "html.json",
        F.json_bytes(F.diagnostic_report(presentedForm=[F.attachment("text/html", html)])),
    )

    (result,) = read_path(path)

    assert result.text == "Line one\nLine two\nLine three\nItem & more\nTBS | 1.254"


# --------------------------------------------------------------------------- FHIR Bundle


def test_a_bundle_gives_one_report_per_diagnostic_report_in_entry_order(tmp_path: Path) -> None:
    document = F.bundle(
        {"resourceType": "Patient", "id": "pat-1"},
        F.diagnostic_report("dr-1", presentedForm=[F.attachment("text/plain", "First TBS 1.254")]),
        {"resourceType": "Observation", "id": "obs-1"},
        F.diagnostic_report(None, conclusion="Second TBS 1.301"),
    )
    path = write(tmp_path, "bundle.json", F.json_bytes(document))

    results = read_path(path)

    assert [(r.id, r.position, r.text, r.error) for r in results] == [
        ("dr-1", 1, "First TBS 1.254", None),
        ("bundle#2", 2, "Second TBS 1.301", None),
    ]


def test_a_report_without_text_in_a_bundle_is_an_error_in_its_place(tmp_path: Path) -> None:
    document = F.bundle(
        F.diagnostic_report("dr-1", conclusion="TBS 1.254"),
        F.diagnostic_report("dr-2", code={"text": MARKER}),
    )
    path = write(tmp_path, "bundle.json", F.json_bytes(document))

    first, second = read_path(path)

    assert (first.id, first.position, first.error) == ("dr-1", 1, None)
    assert (second.id, second.position, second.text) == ("dr-2", 2, None)
    assert second.error is not None
    assert second.error.code == ErrorCode.NO_REPORT_TEXT
    assert path.name in second.error.message
    assert MARKER not in second.error.message
