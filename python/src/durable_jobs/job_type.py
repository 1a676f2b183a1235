"""Declaring a job type: the :func:`job_type` decorator, and :class:`UnrecoverableError` for its handler."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar, cast, get_type_hints, overload

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from . import _protocol as protocol
from .context import JobContext

InputT = TypeVar("InputT", bound=BaseModel)
ResultT = TypeVar("ResultT")
I = TypeVar("I", bound=BaseModel)  # noqa: E741 (the decorator's own input and result)
R = TypeVar("R")


class JobTypeDefinitionError(ValueError):
    """Raised by :func:`job_type` when a declaration is not one the registry would take."""

    def __init__(self, job_type: str, message: str) -> None:
        super().__init__(f'job type "{job_type}": {message}')
        self.job_type = job_type


class UnrecoverableError(Exception):
    """Raised by a handler for a failure no retry can fix: the job ends ``failed`` at once, whatever attempts remain.

    The worker reports it with the failure type ``UnrecoverableError``, the name the service matches.
    """


class ResultInvalidError(ValueError):
    """Raised when a handler's result is not JSON, or does not match the model its return annotation names."""


def _schema_of(model: type[BaseModel], mode: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation" if mode == "input" else "serialization")
    return {"$schema": protocol.JSON_SCHEMA_DIALECT, **schema}


def _in_range(job_type: str, field: str, value: float, low: float, high: float, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise JobTypeDefinitionError(job_type, f"{field} must be a number, not {value!r}")
    if integer and value != int(value):
        raise JobTypeDefinitionError(job_type, f"{field} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise JobTypeDefinitionError(job_type, f"{field} must be from {low:g} to {high:g}, not {value!r}")
    return int(value) if integer else value


class DeclaredJobType(Generic[InputT, ResultT]):
    """A job type ready to serve: its declaration, as the registry and the API see it, and its handler.

    Calling it calls the handler, so a decorated function stays a function in the user's own tests.
    """

    def __init__(
        self,
        handler: Callable[[InputT, JobContext], Any],
        *,
        declaration: dict[str, Any],
        input_model: type[InputT],
        result_model: type[BaseModel] | None,
    ) -> None:
        self.handler = handler
        #: The declaration sent to the registry (``docs/worker-protocol.md``, "Job type declarations").
        self.declaration = declaration
        self.input_model = input_model
        self.result_model = result_model
        #: Plain ``def`` handlers run in the worker's thread pool; ``async def`` ones on its event loop.
        self.is_async = inspect.iscoroutinefunction(handler)
        self.__doc__ = handler.__doc__
        self.__wrapped__ = handler

    @property
    def name(self) -> str:
        return cast(str, self.declaration["name"])

    def __repr__(self) -> str:
        return f"<job type {self.name}: {self.handler.__module__}.{self.handler.__qualname__}>"

    def __call__(self, input: InputT, ctx: JobContext) -> Any:
        return self.handler(input, ctx)

    def parse_input(self, value: Any) -> InputT:
        """The handler's input from what was submitted; raises :class:`pydantic.ValidationError`."""
        return self.input_model.model_validate(value)

    def dump_result(self, result: Any) -> Any:
        """The result as JSON; raises :class:`ResultInvalidError` when it is not JSON or not the declared model."""
        if self.result_model is not None and not isinstance(result, self.result_model):
            try:
                result = self.result_model.model_validate(result)
            except ValidationError as err:
                raise ResultInvalidError(str(err)) from err
        if isinstance(result, BaseModel):
            return result.model_dump(mode="json", by_alias=True)
        try:
            plain = to_jsonable_python(result)
            json.dumps(plain, allow_nan=False)
        except (TypeError, ValueError) as err:  # pydantic_core.PydanticSerializationError is a ValueError
            raise ResultInvalidError(f"the result is not JSON: {err}") from err
        return plain


def _models_of(name: str, handler: Callable[..., Any]) -> tuple[type[BaseModel], type[BaseModel] | None]:
    parameters = list(inspect.signature(handler).parameters.values())
    if len(parameters) != 2:
        raise JobTypeDefinitionError(name, "its handler must take two parameters, (input: AModel, ctx: JobContext)")
    try:
        hints = get_type_hints(handler)
    except Exception as err:  # an annotation that names something not importable where the handler is defined
        raise JobTypeDefinitionError(name, f"its handler's annotations cannot be resolved: {err}") from err
    input_model = hints.get(parameters[0].name)
    if not (inspect.isclass(input_model) and issubclass(input_model, BaseModel)):
        raise JobTypeDefinitionError(
            name, f"the handler's first parameter ({parameters[0].name}) must be annotated with a pydantic model"
        )
    returned = hints.get("return")
    result_model = returned if inspect.isclass(returned) and issubclass(returned, BaseModel) else None
    return input_model, result_model


class _Declare(Protocol):
    """What ``job_type(name=…)`` returns: the decorator proper."""

    @overload
    def __call__(self, handler: Callable[[I, JobContext], Awaitable[R]]) -> DeclaredJobType[I, R]: ...
    @overload
    def __call__(self, handler: Callable[[I, JobContext], R]) -> DeclaredJobType[I, R]: ...


@overload
def job_type(handler: Callable[[I, JobContext], Awaitable[R]]) -> DeclaredJobType[I, R]: ...
@overload
def job_type(handler: Callable[[I, JobContext], R]) -> DeclaredJobType[I, R]: ...
@overload
def job_type(
    handler: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_seconds: int | None = None,
    heartbeat_timeout_seconds: int | None = None,
    max_attempts: int | None = None,
    initial_interval_seconds: float | None = None,
    backoff_coefficient: float | None = None,
    maximum_interval_seconds: float | None = None,
) -> _Declare: ...


def job_type(
    handler: Callable[[Any, JobContext], Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_seconds: int | None = None,
    heartbeat_timeout_seconds: int | None = None,
    max_attempts: int | None = None,
    initial_interval_seconds: float | None = None,
    backoff_coefficient: float | None = None,
    maximum_interval_seconds: float | None = None,
) -> Any:
    """Declares a job type; checked here, at import, so a worker with a bad declaration never starts.

    - ``name``: what callers submit as ``type``, 1-64 of ``[a-z0-9_.-]`` starting with a letter (default: the
      function's name).
    - ``description``: shown in ``GET /api/v1/job-types`` (default: the handler's docstring).
    - The rest are what a submit leaves out; unset ones take the protocol's defaults (timeout 3600 s, heartbeat
      timeout 30 s, 3 attempts 1 s apart, doubling, at most 60 s).

    The input's JSON Schema is the pydantic model of the handler's first parameter; the API validates every submitted
    input against it and the handler receives the parsed model. A return annotation that is a pydantic model becomes
    the result schema, and results are checked against it.
    """

    def declare(fn: Callable[[Any, JobContext], Any]) -> DeclaredJobType[Any, Any]:
        type_name = name if name is not None else getattr(fn, "__name__", "")
        if not isinstance(type_name, str) or not protocol.JOB_TYPE_NAME.match(type_name):
            raise JobTypeDefinitionError(
                str(type_name), "its name must be 1-64 characters of [a-z0-9_.-], starting with a letter"
            )
        text = description if description is not None else inspect.cleandoc(fn.__doc__ or "")
        if len(text) > 2000:
            raise JobTypeDefinitionError(type_name, "its description must be at most 2000 characters")
        input_model, result_model = _models_of(type_name, fn)
        retry = dict(protocol.DEFAULT_RETRY)
        for field, value, low, high, integer in (
            ("maxAttempts", max_attempts, 1, 100, True),
            ("initialIntervalSeconds", initial_interval_seconds, 0, 86_400, False),
            ("backoffCoefficient", backoff_coefficient, 1, 100, False),
            ("maximumIntervalSeconds", maximum_interval_seconds, 0, 86_400, False),
        ):
            if value is not None:
                retry[field] = _in_range(type_name, field, value, low, high, integer)
        declaration: dict[str, Any] = {
            "name": type_name,
            "description": text,
            "inputSchema": _schema_of(input_model, "input"),
            "resultSchema": _schema_of(result_model, "output") if result_model else None,
            "defaults": {
                "timeoutSeconds": _in_range(
                    type_name,
                    "timeout_seconds",
                    protocol.DEFAULT_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds,
                    1,
                    604_800,
                    True,
                ),
                "heartbeatTimeoutSeconds": _in_range(
                    type_name,
                    "heartbeat_timeout_seconds",
                    protocol.DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
                    if heartbeat_timeout_seconds is None
                    else heartbeat_timeout_seconds,
                    1,
                    86_400,
                    True,
                ),
                "retry": retry,
            },
        }
        for schema in ("inputSchema", "resultSchema"):
            if len(json.dumps(declaration[schema])) > protocol.MAX_SCHEMA_CHARS:
                raise JobTypeDefinitionError(type_name, f"its {schema} must be at most 64 KiB as JSON")
        return DeclaredJobType(fn, declaration=declaration, input_model=input_model, result_model=result_model)

    return declare(handler) if handler is not None else declare
