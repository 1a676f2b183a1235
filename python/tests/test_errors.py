"""Error answers become the exception of their code, keeping the status, message, details and Retry-After."""

from typing import get_args

import httpx
import pytest

from durable_jobs import (
    ApiError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ResponseInvalidError,
)
from durable_jobs._wire import api_error
from durable_jobs.errors import ERRORS_BY_CODE
from durable_jobs.models import ErrorCode


def answer(status: int, body: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers=headers)


def test_every_code_of_the_contract_has_its_class() -> None:
    assert set(ERRORS_BY_CODE) == set(get_args(ErrorCode))
    for code, cls in ERRORS_BY_CODE.items():
        assert issubclass(cls, ApiError)
        assert cls.code == code


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_request", InvalidRequestError),
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
    ],
)
def test_a_refusal_is_the_class_of_its_code(status: int, code: str, cls: type[ApiError]) -> None:
    err = api_error(answer(status, f'{{"error": {{"code": "{code}", "message": "no", "details": [{{"path": "x"}}]}}}}'))
    assert type(err) is cls
    assert isinstance(err, ApiError)
    assert (err.status, err.code, err.message, err.details) == (status, code, "no", [{"path": "x"}])
    assert str(err) == f"{status} {code}: no"


def test_retry_after_is_kept() -> None:
    err = api_error(answer(429, '{"error": {"code": "rate_limited", "message": "slow down"}}', {"retry-after": "3"}))
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 3


def test_a_code_this_client_does_not_know_is_an_api_error() -> None:
    err = api_error(answer(418, '{"error": {"code": "teapot", "message": "short and stout"}}'))
    assert type(err) is ApiError
    assert (err.status, err.code) == (418, "teapot")


def test_an_answer_without_an_error_body_is_outside_the_contract() -> None:
    err = api_error(answer(502, "<html>Bad Gateway</html>"))
    assert isinstance(err, ResponseInvalidError)
    assert (err.status, err.body) == (502, "<html>Bad Gateway</html>")
