"""The OpenAPI document (``/openapi.json``, rendered at ``/docs``): what the routes
declare, plus what FastAPI cannot see from them.

- Every operation documents the error answers as RFC 9457 problem details
  (``application/problem+json``, :class:`app.api.problems.Problem`), in place of
  FastAPI's default 422 schema, which the service never sends.
- ``GET /metrics`` is added by :mod:`app.observability` outside the routers; it is
  described here, with its two exposition formats.
- The digest prefix of ``GET /v1/lookup/{prefix}`` is as long as this deployment's
  settings allow; the route's own pattern is the widest any setting allows.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.problems import PROBLEM_STATUSES, PROBLEM_TYPE, Problem
from app.settings import Settings

REF = "#/components/schemas/{model}"
FASTAPI_422 = "#/components/schemas/HTTPValidationError"
LOOKUP_PATH = "/v1/lookup/{prefix}"
METRICS_PATH = "/metrics"
METRICS_OPERATION: dict[str, Any] = {
    "tags": ["health"],
    "summary": "Prometheus metrics",
    "description": "The text exposition format, or OpenMetrics when the Accept header "
    "asks for application/openmetrics-text.",
    "operationId": "metrics",
    "responses": {
        "200": {
            "description": "the service's metrics",
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "application/openmetrics-text": {"schema": {"type": "string"}},
            },
        }
    },
}


def install(app: FastAPI, settings: Settings) -> None:
    """Serve :func:`build`'s document (made once, on the first request for it)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI, settings: Settings) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    problem = Problem.model_json_schema(ref_template=REF)
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    paths = schema.setdefault("paths", {})
    if any(getattr(route, "path", None) == METRICS_PATH for route in app.routes):
        paths.setdefault(METRICS_PATH, {})["get"] = copy.deepcopy(METRICS_OPERATION)
    for path in paths.values():
        for operation in path.values():
            _document_problems(operation.setdefault("responses", {}))
    low, high = settings.lookup_prefix_min, settings.lookup_prefix_max
    for parameter in paths.get(LOOKUP_PATH, {}).get("get", {}).get("parameters", []):
        if parameter["name"] == "prefix":
            parameter["schema"]["pattern"] = f"^[0-9a-f]{{{low},{high}}}$"
            parameter["description"] = f"the first {low} to {high} hex digits of a SHA-256"
    return schema


def _document_problems(responses: dict[str, Any]) -> None:
    """Add problem+json to each error status, beside any body the route documents
    itself for it (``/healthz`` answers its own 503)."""
    for status, description in PROBLEM_STATUSES.items():
        problem = {"schema": {"$ref": REF.format(model="Problem")}}
        documented = responses.get(status)
        if documented is None or _is_fastapi_422(documented):
            responses[status] = {"description": description, "content": {PROBLEM_TYPE: problem}}
        else:
            documented.setdefault("content", {})[PROBLEM_TYPE] = problem


def _is_fastapi_422(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == FASTAPI_422)
