"""Imported by the audit's fork server: builds the checker once, so each worker is forked with it ready."""

import gc

from tbs_doccheck.checker.core import get_checker

get_checker()
# Frozen objects are left out of every later collection. Otherwise each worker's first full collection
# would write to every object the checker holds, copying the fork server's pages into each worker.
gc.collect()
gc.freeze()
