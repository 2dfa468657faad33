"""The installed tool's version, readable without importing spaCy."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tbs-doccheck")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+checkout"
