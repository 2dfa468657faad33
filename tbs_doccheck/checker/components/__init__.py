"""The pipeline's own spaCy components (thin ``tbs_*`` factories) and the span-group names they write."""
