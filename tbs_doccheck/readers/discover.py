"""Paths to the files to read: folders walked, report files kept, everything else listed as skipped."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath

from tbs_doccheck.models import ReportInput
from tbs_doccheck.readers.files import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, read_path

__all__ = [
    "discover",
    "discover_sources",
    "iter_inputs",
    "path_order",
]


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
