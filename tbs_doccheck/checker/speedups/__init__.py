"""Faster stand-ins for pinned medspaCy/``re`` internals, kept apart and tested against the stock code."""
