"""Renderers: checker results as text, JSON, JSON Lines, CSV and the audit's HTML page."""

from tbs_doccheck.render.tabular import CSV_COLUMNS, FORMATS, RENDERERS, csv_row

__all__ = ["CSV_COLUMNS", "FORMATS", "RENDERERS", "csv_row"]
