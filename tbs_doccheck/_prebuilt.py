"""Imported by the audit's fork server: builds the checker once, so each worker is forked with it ready."""

from .api import get_checker

get_checker()
