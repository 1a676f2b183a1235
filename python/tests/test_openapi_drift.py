"""The package's models, error codes and routes against the OpenAPI document the running service serves.

Each model's JSON Schema (as pydantic makes it) and the document's schema are brought to one canonical form and
compared: the properties by their wire names, which are required, the types (nested objects, arrays, maps, any),
nullability, date-time formats and enums. Left out of the comparison, on purpose: descriptions, numeric bounds,
lengths and patterns (the service validates them and answers 400; the client only has to send and read the right
shapes), and whether unknown properties are allowed (answers ignore them so an older client reads a newer service).
An optional property that is absent and one that is null mean the same to the client (it sends neither).
"""

from __future__ import annotations

from typing import Any, get_args

import httpx
import pytest
from pydantic import BaseModel

from durable_jobs import models
from durable_jobs.errors import ERRORS_BY_CODE

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "Job": models.Job,
    "JobList": models.JobList,
    "JobCounts": models.JobCounts,
    "SubmitJobBody": models.SubmitJobBody,
    "JobBatchBody": models.JobBatchBody,
    "JobBatchResult": models.JobBatchResult,
    "JobAttempts": models.JobAttempts,
    "JobLogs": models.JobLogs,
    "JobLogLine": models.JobLogLine,
    "BulkJobsBody": models.BulkJobsBody,
    "BulkJobsResult": models.BulkJobsResult,
    "CreateScheduleBody": models.CreateScheduleBody,
    "Schedule": models.Schedule,
    "ScheduleList": models.ScheduleList,
    "CreateHookBody": models.CreateHookBody,
    "UpdateHookBody": models.UpdateHookBody,
    "Hook": models.Hook,
    "CreatedHook": models.CreatedHook,
    "HookList": models.HookList,
    "ErrorBody": models.ErrorBody,
    "JobTypeList": models.JobTypeList,
    "QueueList": models.QueueList,
    "Whoami": models.Whoami,
}

NOT_MODELLED = {
    "CodecPayloads": "Temporal's remote codec protocol, which the Web UI speaks, not a caller",
    "HookDelivery": "the answer to a webhook sender (GitHub, Stripe), which this client never is",
}

# Where the model says more than the document, and why.
REFINEMENTS = {
    # Each item is validated on its own so that one bad item answers in its place; the client sends only valid ones.
    ("JobBatchBody", "jobs[]"),
}

# Every route of the document, and the client method that calls it (or why none does).
ROUTES = {
    ("POST", "/api/v1/jobs"): "submit",
    ("GET", "/api/v1/jobs"): "list, list_page",
    ("GET", "/api/v1/jobs/counts"): "counts",
    ("GET", "/api/v1/jobs/{jobId}"): "get, wait",
    ("DELETE", "/api/v1/jobs/{jobId}"): "delete",
    ("POST", "/api/v1/jobs/{jobId}/cancel"): "cancel",
    ("GET", "/api/v1/jobs/{jobId}/events"): "events",
    ("POST", "/api/v1/jobs/{jobId}/retry"): "retry",
    ("GET", "/api/v1/jobs/{jobId}/attempts"): "attempts",
    ("GET", "/api/v1/jobs/{jobId}/logs"): "logs",
    ("POST", "/api/v1/jobs/cancel"): "cancel_many",
    ("POST", "/api/v1/jobs/retry"): "retry_many",
    ("POST", "/api/v1/job-batches"): "submit_batch",
    ("POST", "/api/v1/schedules"): "schedules.create",
    ("GET", "/api/v1/schedules"): "schedules.list",
    ("GET", "/api/v1/schedules/{scheduleId}"): "schedules.get",
    ("DELETE", "/api/v1/schedules/{scheduleId}"): "schedules.delete",
    ("POST", "/api/v1/schedules/{scheduleId}/pause"): "schedules.pause",
    ("POST", "/api/v1/schedules/{scheduleId}/unpause"): "schedules.unpause",
    ("POST", "/api/v1/schedules/{scheduleId}/trigger"): "schedules.trigger",
    ("POST", "/api/v1/hooks"): "hooks.create",
    ("GET", "/api/v1/hooks"): "hooks.list",
    ("GET", "/api/v1/hooks/{hookId}"): "hooks.get",
    ("PATCH", "/api/v1/hooks/{hookId}"): "hooks.update",
    ("DELETE", "/api/v1/hooks/{hookId}"): "hooks.delete",
    ("POST", "/api/v1/hooks/{hookId}"): "none: a hook's public path, signed by its sender",
    ("GET", "/api/v1/job-types"): "job_types",
    ("GET", "/api/v1/queues"): "queues",
    ("GET", "/api/v1/whoami"): "whoami",
    ("POST", "/api/v1/codec/encode"): "none: the Web UI's codec endpoint",
    ("POST", "/api/v1/codec/decode"): "none: the Web UI's codec endpoint",
    ("GET", "/healthz"): "none: for probes",
    ("GET", "/readyz"): "none: for probes",
    ("GET", "/metrics"): "none: for Prometheus",
    ("GET", "/openapi.json"): "none: this test reads it",
    ("GET", "/docs"): "none: a page for people",
}

Canonical = dict[str, Any]


def canonical(schema: Any, defs: dict[str, Any]) -> Canonical:
    """The parts of a JSON Schema the comparison looks at, one way of writing each."""
    if schema is True:
        return {"nullable": False, "type": "any"}
    if "$ref" in schema:
        return canonical(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    members = schema.get("anyOf") or schema.get("oneOf")
    if members:
        rest = [m for m in members if m.get("type") != "null"]
        nullable = len(rest) < len(members)
        if len(rest) != 1:
            return {"anyOf": sorted((canonical(m, defs) for m in rest), key=repr), "nullable": nullable}
        inner = canonical(rest[0], defs)
        return {**inner, "nullable": nullable or inner["nullable"]}
    nullable = False
    kind = schema.get("type")
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        rest_kinds = [k for k in kind if k != "null"]
        kind = rest_kinds[0] if len(rest_kinds) == 1 else sorted(rest_kinds)
    result: Canonical = {"nullable": nullable}
    if "enum" in schema:
        result["enum"] = sorted(schema["enum"])
    if "const" in schema:
        result["enum"] = [schema["const"]]
    if kind == "object" or "properties" in schema:
        if "properties" in schema:
            required = set(schema.get("required", []))
            properties = {}
            for name, sub in schema["properties"].items():
                entry = canonical(sub, defs)
                if name not in required:
                    entry = {**entry, "nullable": False}
                properties[name] = entry
            result.update(type="object", properties=properties, required=sorted(required))
        else:
            values = schema.get("additionalProperties", True)
            result.update(type="map", values=canonical(values, defs))
    elif kind == "array":
        result.update(type="array", items=canonical(schema.get("items", {}), defs))
    elif kind is None and "enum" not in result:
        result["type"] = "any"
    else:
        result["type"] = kind
        if schema.get("format") == "date-time":
            result["format"] = "date-time"
    return result


def differences(ours: Canonical, theirs: Canonical, where: str) -> list[str]:
    """Where the model's canonical schema differs from the document's, as readable lines."""
    if ours.get("type") == "object" and theirs.get("type") == "object":
        found = []
        for name in sorted(set(ours["properties"]) | set(theirs["properties"])):
            if name not in ours["properties"]:
                found.append(f"{where}.{name}: in the document, not in the model")
            elif name not in theirs["properties"]:
                found.append(f"{where}.{name}: in the model, not in the document")
            else:
                found += differences(ours["properties"][name], theirs["properties"][name], f"{where}.{name}")
        if ours["required"] != theirs["required"]:
            found.append(f"{where}: required {ours['required']} in the model, {theirs['required']} in the document")
        if ours["nullable"] != theirs["nullable"]:
            found.append(f"{where}: nullable {ours['nullable']} in the model, {theirs['nullable']} in the document")
        return found
    if ours.get("type") == "array" and theirs.get("type") == "array":
        found = differences(ours["items"], theirs["items"], f"{where}[]")
        if ours["nullable"] != theirs["nullable"]:
            found.append(f"{where}: nullable {ours['nullable']} in the model, {theirs['nullable']} in the document")
        return found
    if ours.get("type") == "map" and theirs.get("type") == "map":
        return differences(ours["values"], theirs["values"], f"{where}{{}}")
    if ours != theirs:
        return [f"{where}: {ours} in the model, {theirs} in the document"]
    return []


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    answer = httpx.get(f"{base_url}/openapi.json")
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def test_every_schema_of_the_document_has_a_model(document: dict[str, Any]) -> None:
    schemas = set(document["components"]["schemas"])
    accounted = set(SCHEMA_MODELS) | set(NOT_MODELLED)
    assert schemas - accounted == set(), (
        "schemas of the document without a model: add one to durable_jobs/models.py and to SCHEMA_MODELS here "
        "(or to NOT_MODELLED, saying why callers do not need it)"
    )
    assert accounted - schemas == set(), "models of schemas the document no longer has: remove them"


@pytest.mark.parametrize("name", sorted(SCHEMA_MODELS))
def test_the_model_matches_the_document(document: dict[str, Any], name: str) -> None:
    schemas = document["components"]["schemas"]
    model_schema = SCHEMA_MODELS[name].model_json_schema(by_alias=True)
    ours = canonical(model_schema, model_schema.get("$defs", {}))
    theirs = canonical(schemas[name], schemas)
    found = [
        line
        for line in differences(ours, theirs, name)
        if not any(line.startswith(f"{n}.{p}:") for n, p in REFINEMENTS)
    ]
    assert found == [], "the model differs from the OpenAPI document:\n" + "\n".join(found)


def test_the_error_codes_are_the_document_s(document: dict[str, Any]) -> None:
    codes = document["components"]["schemas"]["ErrorBody"]["properties"]["error"]["properties"]["code"]["enum"]
    assert set(get_args(models.ErrorCode)) == set(codes)
    assert set(ERRORS_BY_CODE) == set(codes)


def test_every_route_has_its_client_method(document: dict[str, Any]) -> None:
    routes = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert routes - set(ROUTES) == set(), (
        "routes of the document without a client method: add the method to both clients and the route to ROUTES here "
        "(or to ROUTES as 'none: <why callers do not need it>')"
    )
    assert set(ROUTES) - routes == set(), "client methods of routes the document no longer has: remove them"


def test_the_list_filters_are_the_document_s(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/jobs"]["get"]["parameters"]}
    assert set(parameters) == {"status", "type", "priority", "tag", "limit", "cursor", "include", "total"}
    counts = {p["name"] for p in document["paths"]["/api/v1/jobs/counts"]["get"]["parameters"]}
    assert counts == {"status", "type", "priority", "tag"}
    assert set(parameters["status"]["enum"]) == set(get_args(models.JobStatus))
    assert set(parameters["priority"]["enum"]) == set(get_args(models.Priority))
    assert set(get_args(models.JobStatus)) > models.FINISHED_STATUSES
    wait = document["paths"]["/api/v1/jobs"]["post"]["parameters"]
    assert [p["name"] for p in wait] == ["wait"]
