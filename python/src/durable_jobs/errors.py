"""Exceptions of the client: one class per error ``code`` of the API, under ``ApiError``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Job


class DurableJobsError(Exception):
    """Base of every exception this package raises."""


class ApiError(DurableJobsError):
    """Raised by the client when the API refuses a request: the HTTP status and the error body's code, message, details.

    The subclass names the code; a code this client does not know yet arrives as ``ApiError`` itself.
    """

    code: str = "unknown"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        details: list[Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        if code is not None:
            self.code = code
        self.details = details
        self.retry_after = retry_after
        """Seconds from ``Retry-After`` (429 rate_limited, 503 unavailable): when trying again makes sense."""

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class InvalidRequestError(ApiError):
    """Raised when the API finds the request malformed (400 ``invalid_request``): a bad input, filter or id."""

    code = "invalid_request"


class AuthenticationError(ApiError):
    """Raised when the API key is missing or unknown (401 ``unauthorized``)."""

    code = "unauthorized"


class PermissionDeniedError(ApiError):
    """Raised when the tenant may not use the route (403 ``forbidden``)."""

    code = "forbidden"


class NotFoundError(ApiError):
    """Raised when the job or schedule does not exist for this tenant (404 ``not_found``)."""

    code = "not_found"


class MethodNotAllowedError(ApiError):
    """Raised for a known path with the wrong method (405 ``method_not_allowed``)."""

    code = "method_not_allowed"


class ConflictError(ApiError):
    """Raised when the request clashes with the job's state or id (409 ``conflict``): a finished job cancelled, a
    succeeded or unfinished job retried, a job id reused with a different request, a schedule id taken."""

    code = "conflict"


class PayloadTooLargeError(ApiError):
    """Raised when the body or the job's input is over the limit (413 ``payload_too_large``)."""

    code = "payload_too_large"


class UnsupportedMediaTypeError(ApiError):
    """Raised when the body is not JSON (415 ``unsupported_media_type``)."""

    code = "unsupported_media_type"


class RateLimitedError(ApiError):
    """Raised when the tenant is over its submit rate or its cap of unfinished jobs (429 ``rate_limited``);
    ``retry_after`` says when to try again."""

    code = "rate_limited"


class InternalServerError(ApiError):
    """Raised when the API failed on a bug of its own (500 ``internal``)."""

    code = "internal"


class ServiceUnavailableError(ApiError):
    """Raised when the API cannot reach Temporal (503 ``unavailable``)."""

    code = "unavailable"


class OutcomeUnknownError(ApiError):
    """Raised when a submit's or a retry's start reached Temporal but its answer was lost (503 ``outcome_unknown``):
    the job may exist. ``details`` names its ``jobId``: submitting the same request with it again is safe."""

    code = "outcome_unknown"


ERRORS_BY_CODE: dict[str, type[ApiError]] = {
    cls.code: cls
    for cls in (
        InvalidRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        MethodNotAllowedError,
        ConflictError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        RateLimitedError,
        InternalServerError,
        ServiceUnavailableError,
        OutcomeUnknownError,
    )
}
"""The class of each error code of the contract."""


class ResponseInvalidError(DurableJobsError):
    """Raised when an answer is outside the contract (an error without its error body, a body that does not parse)."""

    def __init__(self, message: str, *, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ServiceUnreachableError(DurableJobsError):
    """Raised when no answer came: the connection failed or timed out (the httpx error is the ``__cause__``)."""


class JobWaitTimeoutError(DurableJobsError, TimeoutError):
    """Raised by ``wait`` when the job has not finished in time; ``last_seen`` is its last poll."""

    def __init__(self, last_seen: Job, timeout: float) -> None:
        super().__init__(f"job {last_seen.job_id} did not finish within {timeout:g} s; it is {last_seen.status}")
        self.last_seen = last_seen
        self.timeout = timeout
