"""Readers: paths in, report inputs out; a file that cannot be read becomes an error record, never an exception."""

from tbs_doccheck.readers.discover import discover, discover_sources, iter_inputs, path_order
from tbs_doccheck.readers.files import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, read_path

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "discover",
    "discover_sources",
    "iter_inputs",
    "path_order",
    "read_path",
]
