"""Physician queries for an audit's failing reports: a .docx letter per signer, a worklist, content hashes.

The letters follow compliant-query practice (AHIMA/ACDIS): the record's words quoted with their location,
non-leading questions, options that include "Other" and "Unable to determine", and nothing about payment.
The wording is data: ``patterns/query_templates.json``.
"""

from tbs_doccheck.queries.build import NO_SIGNER, QueriesReport, load_results, signer_of, write_queries
from tbs_doccheck.queries.letters import letter_text
from tbs_doccheck.queries.templates import QueryTemplates, query_templates, read_templates
from tbs_doccheck.queries.worklist import (
    FILE_MISSING,
    OPEN,
    QUERIES_DIR,
    RESOLVED,
    QueryError,
    WorklistRow,
    read_worklist,
)

__all__ = [
    "FILE_MISSING",
    "NO_SIGNER",
    "OPEN",
    "QUERIES_DIR",
    "RESOLVED",
    "QueriesReport",
    "QueryError",
    "QueryTemplates",
    "WorklistRow",
    "letter_text",
    "load_results",
    "query_templates",
    "read_templates",
    "read_worklist",
    "signer_of",
    "write_queries",
]
