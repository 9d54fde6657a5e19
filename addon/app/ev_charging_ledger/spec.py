"""Requests are checked against ``openapi.json`` itself, so the document and the server
cannot disagree about what a well-formed request is.

Only the JSON Schema keywords the document uses for requests are understood (type,
properties, required, enum, minLength, maxLength, pattern, minimum, maximum, format
date/date-time, items, $ref); a keyword the checker does not know makes
:func:`load` fail, so the document cannot grow a rule the server silently ignores.
What a schema cannot say (an unknown time zone, an end before its start) is checked by
the handlers and answered 422; what the schema says is answered 400 here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

REQUEST_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "enum",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "format",
        "items",
        "$ref",
        "description",
        "default",
        "examples",
    }
)
# RFC 3339 section 5.6: full-date and date-time (seconds may be 60 for a leap second).
_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class SchemaViolation(Exception):
    """The request does not match the document; the message names the field."""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Operation:
    parameters: tuple[Parameter, ...]
    body: dict[str, Any] | None  # media type -> schema
    body_required: bool


class Document:
    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        self.operations: dict[tuple[str, str], Operation] = {}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                self.operations[(method.upper(), path)] = self._operation(operation)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            target: Any = self._document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = target
        return schema

    def _operation(self, operation: dict[str, Any]) -> Operation:
        parameters = tuple(
            Parameter(
                item["name"],
                item["in"],
                bool(item.get("required")),
                self._checked(item.get("schema", {})),
            )
            for item in (self.resolve(raw) for raw in operation.get("parameters", []))
        )
        body = None
        request_body = operation.get("requestBody")
        if request_body is not None:
            body = {
                media: self._checked(content.get("schema", {}))
                for media, content in request_body["content"].items()
            }
        return Operation(parameters, body, bool(request_body and request_body.get("required")))

    def _checked(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema = self.resolve(schema)
        unknown = set(schema) - REQUEST_KEYWORDS
        if unknown:
            raise ValueError(f"request schema uses {sorted(unknown)}, which is not checked")
        for child in (schema.get("properties") or {}).values():
            self._checked(child)
        if "items" in schema:
            self._checked(schema["items"])
        return schema

    def check(self, schema: dict[str, Any], value: Any, where: str) -> None:
        """Raise :class:`SchemaViolation` unless ``value`` (JSON with Decimal numbers)
        matches ``schema``."""
        schema = self.resolve(schema)
        types = schema.get("type")
        if types is not None:
            allowed = [types] if isinstance(types, str) else list(types)
            if not any(_is_type(value, name) for name in allowed):
                raise SchemaViolation(f"{where} must be {_describe(allowed)}")
        if "enum" in schema and value not in schema["enum"]:
            choices = ", ".join(str(choice) for choice in schema["enum"])
            raise SchemaViolation(f"{where} must be one of {choices}")
        if isinstance(value, str):
            self._check_string(schema, value, where)
        elif _is_type(value, "number"):
            number = Decimal(value)
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and number < low) or (high is not None and number > high):
                kind = "an integer" if "integer" in (types or ()) else "a number"
                if low is not None and high is not None:
                    raise SchemaViolation(f"{where} must be {kind} between {low} and {high}")
                if low is not None:
                    raise SchemaViolation(f"{where} must be at least {low}")
                raise SchemaViolation(f"{where} must be at most {high}")
        elif isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    raise SchemaViolation(f"{name} is required")
            for name, child in (schema.get("properties") or {}).items():
                if name in value:
                    self.check(child, value[name], name)
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                self.check(schema["items"], item, f"{where}[{index}]")

    def _check_string(self, schema: dict[str, Any], value: str, where: str) -> None:
        if len(value) < schema.get("minLength", 0):
            raise SchemaViolation(
                f"{where} must not be empty"
                if schema["minLength"] == 1
                else f"{where} must have at least {schema['minLength']} characters"
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise SchemaViolation(f"{where} must have at most {schema['maxLength']} characters")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            # A description says in words what the pattern says in symbols.
            wanted = schema.get("description") or f"text matching {schema['pattern']}"
            raise SchemaViolation(f"{where} must be {wanted}")
        if schema.get("format") == "date" and not _is_date(value):
            raise SchemaViolation(f"{where} must be a date YYYY-MM-DD")
        if schema.get("format") == "date-time" and not (
            _DATE_TIME.fullmatch(value) and _is_date(value[:10])
        ):
            raise SchemaViolation(f"{where} must be an RFC 3339 time with an offset")

    def check_parameter(self, parameter: Parameter, text: str) -> None:
        """Parameters arrive as text; numbers and booleans are read as JSON would be."""
        schema = self.resolve(parameter.schema)
        types = schema.get("type")
        allowed = [types] if isinstance(types, str) else list(types or [])
        value: Any = text
        if "string" not in allowed and allowed:
            value = _parse_scalar(text)
        self.check(schema, value, parameter.name)


def _parse_scalar(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?[0-9]{1,400}(\.[0-9]{1,400})?([eE][+-]?[0-9]{1,4})?", text):
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    return text


def _is_date(text: str) -> bool:
    if not _FULL_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return False
    if isinstance(value, Decimal) and not value.is_finite():
        return False
    if name == "number":
        return True
    # JSON Schema: an integer is any number without a fractional part (2066.0 too).
    return name == "integer" and (isinstance(value, int) or value == value.to_integral_value())


def _describe(types: list[str]) -> str:
    words = {
        "integer": "an integer",
        "number": "a number",
        "string": "a string",
        "boolean": "true or false",
        "object": "an object",
        "array": "a list",
        "null": "null",
    }
    return " or ".join(words.get(name, name) for name in types)


@cache
def document() -> Document:
    text = resources.files("ev_charging_ledger").joinpath("openapi.json").read_text("utf-8")
    return Document(json.loads(text))
