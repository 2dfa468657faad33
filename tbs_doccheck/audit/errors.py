"""The audit's own exception, raised when an audit cannot run at all."""

__all__ = ["AuditError"]


class AuditError(Exception):
    """The audit could not run at all (bad output folder, nothing to read...)."""
