"""User-task forms: JSON Schema from the BPMN file, values from HTML forms, validated server-side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

MAX_FIELD_CHARS = 10_000


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True)
class FormField:
    name: str
    title: str
    kind: str  # text, textarea, number, integer, boolean, select
    required: bool
    options: tuple[str, ...]
    minimum: float | None
    maximum: float | None
    max_length: int | None
    default: Any


def fields_of(schema: Mapping[str, Any] | None) -> list[FormField]:
    """The fields to render, in the order the schema lists them."""
    if not schema:
        return []
    required = set(schema.get("required", []))
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type", "string")
        if "enum" in prop:
            widget = "select"
        elif kind == "string":
            widget = "textarea" if prop.get("format") == "textarea" else "text"
        elif kind in ("number", "integer", "boolean"):
            widget = kind
        else:
            widget = "text"
        fields.append(
            FormField(
                name=name,
                title=prop.get("title", name.replace("_", " ").capitalize()),
                kind=widget,
                required=name in required,
                options=tuple(str(v) for v in prop.get("enum", ())),
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
                max_length=prop.get("maxLength"),
                default=prop.get("default"),
            )
        )
    return fields


def coerce(
    schema: Mapping[str, Any] | None, raw: Mapping[str, str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Turn HTML form strings into typed values; blanks are left out (so `required` catches them)."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field in fields_of(schema):
        text = raw.get(field.name)
        if field.kind == "boolean":
            values[field.name] = text in ("on", "true", "1", "yes")
            continue
        if text is None or text.strip() == "":
            continue
        text = text.strip()
        if len(text) > MAX_FIELD_CHARS:
            errors.append(FieldError(field.name, f"is longer than {MAX_FIELD_CHARS} characters"))
            continue
        if field.kind in ("number", "integer"):
            try:
                values[field.name] = int(text) if field.kind == "integer" else float(text)
            except ValueError:
                errors.append(FieldError(field.name, f"{text!r} is not a {field.kind}"))
            continue
        values[field.name] = text
    return values, errors


def validate(schema: Mapping[str, Any] | None, values: Mapping[str, Any]) -> list[FieldError]:
    """JSON Schema errors, one per field, in the words a field officer reads."""
    if not schema:
        return []
    errors = []
    for error in sorted(Draft202012Validator(schema).iter_errors(dict(values)), key=lambda e: list(e.path)):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            errors.append(FieldError(missing, "is required"))
        else:
            name = ".".join(str(p) for p in error.path) or "(form)"
            errors.append(FieldError(name, error.message))
    unknown = set(values) - set((schema.get("properties") or {}).keys())
    errors += [FieldError(name, "is not a field of this form") for name in sorted(unknown)]
    return errors


def complete_values(schema: Mapping[str, Any] | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of the form present (None when left blank), so later expressions can name it."""
    filled = {f.name: None for f in fields_of(schema)}
    filled.update(values)
    return filled
