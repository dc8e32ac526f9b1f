"""Domain errors: each message says what went wrong and what to do, in one line."""


class DomainError(Exception):
    """Base for errors a user can act on. Front ends show `str(error)`."""


class ValidationError(DomainError):
    """Input was refused; `field` names the offending input when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(DomainError):
    pass


class PermissionDeniedError(DomainError):
    pass


class InvalidTransitionError(DomainError):
    pass


class ConflictError(DomainError):
    """Someone else changed the same thing first."""


class ExternalServiceError(DomainError):
    """Jira or another service failed; the operation may be retried."""


class AuthenticationError(DomainError):
    pass
