"""The ``tbs-doccheck`` command line (Typer): thin commands over the features."""

from tbs_doccheck.cli.app import app, main

__all__ = ["app", "main"]
