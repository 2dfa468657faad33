"""Finding the files to read: folders walked, others skipped, paths in Path order, reports read lazily."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tbs_doccheck.models import ErrorCode
from tbs_doccheck.readers import (
    SUPPORTED_SUFFIXES,
    discover,
    discover_sources,
    iter_inputs,
    path_order,
    read_path,
)

try:  # the helpers sit beside these files; tests/ may or may not become a package
    from tests import formats as F
    from tests.readers.read_helpers import MARKER, assert_single_error, write
except ImportError:  # pragma: no cover - depends on how pytest was started
    import formats as F  # type: ignore[no-redef]
    from read_helpers import MARKER, assert_single_error, write  # type: ignore[no-redef]


# --------------------------------------------------------------------------- discover


def make_tree(root: Path) -> None:
    for name in [
        "b/z.txt",
        "a/y.pdf",
        "a/sub/x.hl7",
        "a/sub/deeper/w.json",
        "a/notes.doc",
        "c.rtf",
        "image.png",
        "a/.DS_Store",
        "a/~$lock.docx",
        ".git/config.txt",
        "a/UPPER.DOCX",
    ]:
        write(root, name, b"x")


def test_discover_walks_folders_recursively_and_sorts_both_lists(tmp_path: Path) -> None:
    make_tree(tmp_path)

    supported, skipped = discover([tmp_path])

    assert supported == [
        tmp_path / "a/UPPER.DOCX",
        tmp_path / "a/sub/deeper/w.json",
        tmp_path / "a/sub/x.hl7",
        tmp_path / "a/y.pdf",
        tmp_path / "b/z.txt",
        tmp_path / "c.rtf",
    ]
    assert skipped == [
        tmp_path / "a/.DS_Store",
        tmp_path / "a/notes.doc",
        tmp_path / "a/~$lock.docx",
        tmp_path / "image.png",
    ]


def test_discover_keeps_explicit_files_and_lists_a_missing_one_for_reading(tmp_path: Path) -> None:
    make_tree(tmp_path)
    missing = tmp_path / "nope.txt"

    supported, skipped = discover(
        [tmp_path / "c.rtf", missing, tmp_path / "image.png", tmp_path / "b"]
    )

    assert supported == [tmp_path / "b/z.txt", tmp_path / "c.rtf", missing]
    assert skipped == [tmp_path / "image.png"]
    assert_single_error(read_path(missing), missing, ErrorCode.NOT_FOUND)


def test_discover_lists_each_file_once_when_paths_overlap(tmp_path: Path) -> None:
    make_tree(tmp_path)

    supported, _ = discover(
        [tmp_path / "a", tmp_path / "a/sub", tmp_path / "a/y.pdf", str(tmp_path / "a")]
    )

    assert supported == [
        tmp_path / "a/UPPER.DOCX",
        tmp_path / "a/sub/deeper/w.json",
        tmp_path / "a/sub/x.hl7",
        tmp_path / "a/y.pdf",
    ]


def test_discover_survives_symlink_loops(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "a/sub/up").symlink_to(tmp_path / "a")  # a/sub/up -> a: a loop
    (tmp_path / "a/self").symlink_to(tmp_path / "a/self")  # a link to itself
    (tmp_path / "a/loop.txt").symlink_to(tmp_path / "a/loop.txt")

    supported, skipped = discover([tmp_path])

    assert tmp_path / "a/y.pdf" in supported
    assert len(supported) == len(set(supported))
    assert not any("up" in path.parts for path in supported)
    assert tmp_path / "a/loop.txt" in supported  # so read_path can report the loop
    assert tmp_path / "a/self" in skipped
    assert_single_error(
        read_path(tmp_path / "a/loop.txt"), tmp_path / "a/loop.txt", ErrorCode.SYMLINK_LOOP
    )


def test_discover_follows_a_symlinked_folder_that_is_not_a_loop(tmp_path: Path) -> None:
    write(tmp_path, "elsewhere/r.txt", b"x")
    write(tmp_path, "root/s.txt", b"x")
    (tmp_path / "root/linked").symlink_to(tmp_path / "elsewhere")

    supported, _ = discover([tmp_path / "root"])

    assert supported == [tmp_path / "root/linked/r.txt", tmp_path / "root/s.txt"]


def test_discover_accepts_a_single_path_string(tmp_path: Path) -> None:
    write(tmp_path, "r.txt", b"x")

    assert discover(str(tmp_path)) == ([tmp_path / "r.txt"], [])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- iter_inputs


def test_iter_inputs_streams_every_report_in_discover_order(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", F.txt_bytes())
    write(
        tmp_path,
        "b.hl7",
        F.hl7_message([("P1", "F1", [("TX", "one")]), ("P2", "F2", [("TX", "two")])]).encode(),
    )
    write(tmp_path, "c.pdf", F.txt_bytes(MARKER))
    write(tmp_path, "d.png", b"x")

    inputs = iter_inputs([tmp_path])

    assert iter(inputs) is inputs  # lazy: nothing is read until asked for
    assert [(r.id, r.position, r.error.code if r.error else None) for r in inputs] == [
        ("a", None, None),
        ("F1", 1, None),
        ("F2", 2, None),
        ("c", None, ErrorCode.CORRUPT_PDF),
    ]


def test_iter_inputs_passes_the_size_limit_on(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", F.txt_bytes())

    (result,) = iter_inputs([tmp_path], max_bytes=10)

    assert result.error is not None
    assert result.error.code == ErrorCode.TOO_LARGE


def test_supported_suffixes_are_the_documented_formats() -> None:
    documented = {".txt", ".text", ".docx", ".pdf", ".rtf", ".hl7", ".json"}

    assert documented == SUPPORTED_SUFFIXES


# --------------------------------------------------------------------------- path order


def test_discover_sources_gives_the_order_sorted_paths_give_for_names_that_sort_differently_as_text(
    tmp_path: Path,
) -> None:
    # As text "a-b" < "a/b" ("-" < "/"), but as paths a/b comes first: a part ends before "a-b" does.
    for name in ["a/b.txt", "a-b.txt", "a b/c.txt", "a.txt", "a/!x.txt", "a/b/c.txt", "A.txt", "é.txt", "a!/z.txt"]:
        write(tmp_path, name, b"x")

    sources, _ = discover_sources([tmp_path])
    supported, _ = discover([tmp_path])

    assert sources == [os.fspath(p) for p in sorted(tmp_path.rglob("*.txt"))]
    assert supported == [Path(s) for s in sources]


@pytest.mark.parametrize(
    "paths",
    [
        ["b", "a", ".", "a-b", "a/b", "a/b/c", "/z", "/a/b", "/a-b", "//a", "!x", " y", "~"],
        ["/tmp/x/a", "/tmp/x-a", "/tmp/x a", "/tmp/x/a/b", "/tmp", "/"],
    ],
)
def test_path_order_sorts_strings_exactly_as_path_objects_sort(paths: list[str]) -> None:
    normalised = [os.fspath(Path(p)) for p in paths]

    assert sorted(normalised, key=path_order) == [os.fspath(p) for p in sorted(map(Path, normalised))]


def test_a_path_holding_a_nul_byte_is_reported_as_not_found_rather_than_crashing_discovery() -> None:
    supported, skipped = discover_sources(["bad\x00name.txt"])

    assert supported == ["bad\x00name.txt"] and skipped == []
    [record] = read_path("bad\x00name.txt")
    assert record.error is not None and record.error.code is ErrorCode.NOT_FOUND
    assert "NUL byte" in record.error.message
