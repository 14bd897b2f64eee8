"""Checking REST answers against their response models: every field validated, dumped
back to exactly the JSON sent, and nothing the model leaves unnamed."""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, TypeAdapter

from app.api.problems import Problem

JSON = "application/json"
PROBLEM = "application/problem+json"


def undocumented(value: Any, where: str = "$") -> list[str]:
    """Where a validated document carries a field its model does not name."""
    if isinstance(value, BaseModel):
        found = [f"{where}.{name}" for name in value.model_extra or {}]
        for name in type(value).model_fields:
            found += undocumented(getattr(value, name), f"{where}.{name}")
        return found
    if isinstance(value, list):
        return [
            path for i, item in enumerate(value) for path in undocumented(item, f"{where}[{i}]")
        ]
    return []  # a plain value, or an open-ended object such as a record's claims


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (itself, in a list, or optional), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(model_in, get_args(annotation)) if m is not None), None)


def unnamed_keys(model: type[BaseModel], doc: dict[str, Any], where: str = "$") -> list[str]:
    """Where a JSON document has a field ``model`` does not name, by keys alone."""
    found = []
    for key, value in doc.items():
        field = model.model_fields.get(key)
        if field is None:
            found.append(f"{where}.{key}")
            continue
        inner = model_in(field.annotation)
        for item in value if isinstance(value, list) else [value]:
            if inner is not None and isinstance(item, dict):
                found += unnamed_keys(inner, item, f"{where}.{key}")
    return found


def conforms(model: Any, body: Any) -> Any:
    """Validate ``body`` (parsed JSON) against ``model``; return the validated value."""
    adapter = TypeAdapter(model)
    value = adapter.validate_python(body)
    assert adapter.dump_python(value, mode="json", exclude_unset=True) == body
    assert undocumented(value) == []
    return value


def answer(response: Any, model: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == JSON
    conforms(model, response.json())
    return response.json()


def problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    conforms(Problem, response.json())
