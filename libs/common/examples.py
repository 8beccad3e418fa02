"""Examples built from a JSON schema, so an OpenAPI example can never disagree with its schema.

A schema's own `examples` (or `example`, `default`, `const`, first `enum` value) wins; otherwise
a value of the right type and format is made up. Schemas declare examples where a made-up value
would mislead (report fields take theirs from the field catalogue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_BY_FORMAT = {
    "date-time": "2026-03-14T09:30:00Z",
    "date": "2026-03-14",
    "uuid": "0b0f6a3e-7d2c-4f4e-9a57-1c2b3d4e5f60",
    "email": "duty@example.org",
    "uri": "https://example.org/hooks/lifeline",
    "binary": "",
}
MAX_DEPTH = 8


def example_of(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """An example value valid for `schema` (`$ref`s resolved in `components`)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = components.get(ref.rsplit("/", 1)[-1], {})
        return example_of(target, components, depth + 1)
    if depth > MAX_DEPTH:
        return None
    declared = _declared(schema)
    if declared:
        return declared[0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return example_of(options[0], components, depth + 1)
    return _by_type(schema, components, depth)


def _declared(schema: dict[str, Any]) -> list[Any]:
    """The schema's own example, if it has one (a one-item list, so None can be an example)."""
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list) and schema[key]:
            return [schema[key][0]]
    for key in ("example", "const", "default"):
        if key in schema:
            return [schema[key]]
    return []


def _by_type(schema: dict[str, Any], components: dict[str, Any], depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return _object(schema, components, depth)
    if kind == "array":
        item = example_of(schema.get("items", {}), components, depth + 1)
        return [item] * max(1, int(schema.get("minItems", 1)))
    makers: dict[str, Callable[[], Any]] = {
        "string": lambda: _string(schema),
        "integer": lambda: _integer(schema),
        "number": lambda: float(schema.get("minimum", 1.0)),
        "boolean": lambda: True,
    }
    return makers[kind]() if kind in makers else None


def _object(schema: dict[str, Any], components: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties", {})
    value = {name: example_of(sub, components, depth + 1) for name, sub in properties.items()}
    extra = schema.get("additionalProperties")
    if not properties and isinstance(extra, dict):
        value["key"] = example_of(extra, components, depth + 1)
    return value


def _integer(schema: dict[str, Any]) -> int:
    if "minimum" in schema:
        return int(schema["minimum"])
    if "exclusiveMinimum" in schema:
        return int(schema["exclusiveMinimum"]) + 1
    return min(1, int(schema.get("maximum", 1)))


def _string(schema: dict[str, Any]) -> str:
    if schema.get("format") in _BY_FORMAT:
        return _BY_FORMAT[schema["format"]]
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 64))
    text = "example"
    if len(text) < low:
        text = text + "x" * (low - len(text))
    return text[: max(high, low)]
