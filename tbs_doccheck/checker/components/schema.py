"""What the pipeline writes, named once: span-group keys, span labels and custom extensions."""

from spacy.tokens import Span

#: medspaCy's TargetMatcher, our TBS value finder, the Sectionizer and ConText share this group.
TARGET_GROUP = "tbs_targets"
#: Signing statements read by the signature reader.
SIGNATURE_GROUP = "tbs_signatures"
#: Report-status markers (final, preliminary, draft, pending...).
STATUS_GROUP = "tbs_status"

#: Label of a TBS value span (mention through number) in :data:`TARGET_GROUP`.
TBS_VALUE_LABEL = "TBS_VALUE"
#: Label of a signing statement in :data:`SIGNATURE_GROUP`.
SIGNATURE_LABEL = "SIGNATURE"
#: Labels of status markers in :data:`STATUS_GROUP`.
STATUS_NOT_FINAL_LABEL = "STATUS_NOT_FINAL"
STATUS_FINAL_LABEL = "STATUS_FINAL"

#: ``span._.tbs``: the :class:`TbsCandidate` behind a TBS value span.
TBS_EXT = "tbs"
#: ``span._.signature``: the :class:`SignatureFinding` behind a signing statement.
SIGNATURE_EXT = "signature"
#: ``span._.status``: the rule id of a status marker.
STATUS_EXT = "status"


def register_extensions() -> None:
    """Declare the span extensions the components write (idempotent)."""
    for ext in (TBS_EXT, SIGNATURE_EXT, STATUS_EXT):
        if not Span.has_extension(ext):
            Span.set_extension(ext, default=None)
