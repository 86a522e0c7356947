"""Pydantic's validation errors translated into located, actionable manifest errors.

Each pydantic error carries a ``loc`` made of field aliases (the camelCase YAML keys), list
indexes and, inside unions, branch tags that are not keys at all. Walking that ``loc`` through
the plain data keeps only the real keys, which gives both the field path a person reads
(``build.outputs[2].producedBy``) and the node the source map knows the line of.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from lodestar.errors import Location, ManifestError
from lodestar.manifest import model as m
from lodestar.manifest.source import DataPath, SourceMap, format_path

#: what each pattern of the model means, in words, with an example
PATTERN_WORDS: dict[str, tuple[str, str]] = {
    m.SLUG_PATTERN: (
        "name",
        "lower-case letters and digits, words joined by -, e.g. retail-orders",
    ),
    m.ID_PATTERN: ("id", "lower-case letters and digits, words joined by - or _, e.g. raise-sales"),
    m.IDENT_PATTERN: ("identifier", "lower-case letters and digits joined by _, e.g. order_lines"),
    m.DURATION_PATTERN: ("duration", "a whole number and one of s, m, h, d, e.g. 30m"),
    m.VERSION_PATTERN: ("version", "a semantic version such as 1.0.0 or 1.1.0-rc.1"),
    m.EMAIL_PATTERN: ("e-mail address", "an address such as team@example.com"),
}


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (case and _ ignored), if any is close enough."""
    options = sorted(set(choices))
    folded = {_fold(c): c for c in options}
    if _fold(word) in folded:
        return folded[_fold(word)]
    close = difflib.get_close_matches(_fold(word), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def suggestion(word: str, choices: Iterable[str], what: str) -> str:
    """``did you mean 'x'?`` when one is close, else the list of valid choices."""
    options = sorted(set(choices))
    close = did_you_mean(word, options)
    if close is not None:
        return f"did you mean {close!r}?"
    if not options:
        return f"there are no {what}"
    listed = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"{what}: {listed}"


def _fold(text: str) -> str:
    return text.replace("_", "").replace("-", "").lower()


# --- the model behind a path ----------------------------------------------------------------


def aliases(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The fields of ``model`` by the YAML key that sets them."""
    found: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        found[alias or info.alias or name] = info
    return found


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _branches(tp: Any) -> list[Any]:
    tp = _strip(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_strip(a) for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _fits(model: type[BaseModel], data: Any) -> int:
    """How well ``data`` fits ``model``: -1 when a literal field disagrees, else keys shared."""
    if not isinstance(data, dict):
        return 0
    fields = aliases(model)
    for key, info in fields.items():
        literal = _strip(info.annotation)
        literal_mismatch = key in data and data[key] not in typing.get_args(literal)
        if typing.get_origin(literal) is Literal and literal_mismatch:
            return -1
    return sum(1 for key in data if key in fields)


def _model_for(tp: Any, data: Any) -> type[BaseModel] | None:
    models = [b for b in _branches(tp) if _is_model(b)]
    if not models:
        return None
    best = max(models, key=lambda candidate: _fits(candidate, data))
    return best if _fits(best, data) >= 0 else None


def model_at(data: Any, path: DataPath) -> type[BaseModel] | None:
    """The model that validates the mapping at ``path`` of a manifest, when there is one."""
    tp: Any = m.DataProduct
    node = data
    for item in path:
        model = _model_for(tp, node)
        if model is not None:
            info = aliases(model).get(item) if isinstance(item, str) else None
            if info is None:
                return None
            tp = info.annotation
        else:
            branches = [b for b in _branches(tp) if typing.get_origin(b) in (list, dict)]
            if not branches:
                return None
            args = typing.get_args(branches[0])
            tp = args[-1] if args else Any
        node = _child(node, item)
    return _model_for(tp, node)


def _child(node: Any, item: str | int) -> Any:
    if isinstance(node, dict) and isinstance(item, str):
        return node.get(item)
    if isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
        return node[item]
    return None


def field_info(data: Any, path: DataPath) -> FieldInfo | None:
    """The pydantic field the last key of ``path`` sets, when it is a model field."""
    if not path or not isinstance(path[-1], str):
        return None
    parent = model_at(data, path[:-1])
    return aliases(parent).get(path[-1]) if parent is not None else None


# --- translation ----------------------------------------------------------------------------


def _data_path(loc: Sequence[str | int], data: Any, kind: str) -> DataPath:
    """The keys and indexes of ``loc`` that exist in ``data`` (union tags dropped).

    A missing field keeps its name as the last item, although the data has no such key.
    """
    path: list[str | int] = []
    node = data
    for i, item in enumerate(loc):
        present = (isinstance(node, dict) and isinstance(item, str) and item in node) or (
            isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)
        )
        if present:
            path.append(item)
            node = _child(node, item)
        elif i == len(loc) - 1 and kind == "missing" and isinstance(item, str):
            path.append(item)
    return tuple(path)


def translate(exc: ValidationError, data: Any, source: SourceMap) -> list[ManifestError]:
    """One located ManifestError per distinct problem of ``exc`` (union branches merged)."""
    found: list[tuple[DataPath, str, ManifestError]] = []
    seen: set[DataPath] = set()
    for details in exc.errors(include_url=False):
        path = _data_path(details["loc"], data, details["type"])
        if path in seen:  # NOTE: each branch of a union reports the same node once
            continue
        seen.add(path)
        found.append((path, details["type"], _translate_one(details, path, data, source)))

    # NOTE: a misspelt required key also reads as missing; its "did you mean" says it all
    meant = {
        (*path[:-1], match.group(1))
        for path, kind, error in found
        if kind == "extra_forbidden"
        and (match := re.fullmatch(r"did you mean '([^']+)'\?", error.hint)) is not None
    }
    return [error for path, kind, error in found if not (kind == "missing" and path in meant)]


def _translate_one(
    details: ErrorDetails, path: DataPath, data: Any, source: SourceMap
) -> ManifestError:
    kind = details["type"]
    value = details.get("input")
    ctx = details.get("ctx") or {}
    name = str(path[-1]) if path else ""
    location = source.locate(path)
    hint = ""

    if kind == "missing":
        message = f"missing required field {name!r}"
        info = field_info(data, path)
        where = format_path(path[:-1]) or "the top level"
        hint = f"add a {name}: key under {where}"
        if info and info.description:
            hint += f" ({info.description.rstrip('.')})"
        location = source.locate(path[:-1])
    elif kind == "extra_forbidden":
        message = f"unknown field {name!r}"
        parent = model_at(data, path[:-1])
        if parent is not None:
            hint = suggestion(name, aliases(parent), "fields here")
        location = source.locate(path, key=True)
    elif kind == "step_kind":
        message, hint, path = _step_problem(_child_at(data, path), path)
        location = source.locate(path)
    elif kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"{_show(value)} is not one of {', '.join(choices)}"
        close = did_you_mean(str(value), choices) if choices else None
        hint = f"did you mean {close!r}?" if close and close != value else ""
    elif kind == "string_pattern_mismatch":
        what, words = PATTERN_WORDS.get(str(ctx.get("pattern")), ("value", ""))
        message = f"{_show(value)} is not a valid {what}"
        hint = f"use {words}" if words else f"it must match {ctx.get('pattern')}"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_describe(value)}"
        hint = _type_hint(kind, value)
    elif kind in ("too_short", "string_too_short", "too_long", "string_too_long"):
        message, hint = _length_problem(kind, value, ctx)
    elif kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        message = f"must be {symbol} {ctx.get(key)}, got {_show(value)}"
    elif kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error") or details["msg"])
    elif kind.startswith(("date_", "datetime_")):
        message = f"expected a date such as 2024-01-31, got {_describe(value)}"
    else:
        text = details["msg"]
        message = text[:1].lower() + text[1:]

    return ManifestError(
        message, location=location, field=format_path(path), hint=hint, rule="schema"
    )


_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
}

_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _child_at(data: Any, path: DataPath) -> Any:
    node = data
    for item in path:
        node = _child(node, item)
    return node


def _step_problem(step: Any, path: DataPath) -> tuple[str, str, DataPath]:
    """Why a step matches none of the step models: message, hint and the node to point at."""
    types_ = ", ".join(m.STEP_TYPES)
    if not isinstance(step, dict):
        return f"expected a step mapping, got {_describe(step)}", f"type is one of {types_}", path
    kind = step.get("type")
    if kind is None:
        return "missing required field 'type'", f"add type: one of {types_}", path
    if kind not in m.STEP_TYPES:
        hint = suggestion(str(kind), m.STEP_TYPES, "step types")
        return f"unknown step type {_show(kind)}", hint, (*path, "type")
    job = step.get("job")
    jobs = ", ".join(m.SPARK_JOBS)
    if job is None:
        return "missing required field 'job'", f"a spark step names a registered job: {jobs}", path
    hint = suggestion(str(job), m.SPARK_JOBS, "registered Spark jobs")
    return f"unknown Spark job {_show(job)}", hint, (*path, "job")


def _length_problem(kind: str, value: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    text = kind.startswith("string")
    if kind.endswith("too_short"):
        least = ctx.get("min_length", 1)
        if text:
            message = "must not be empty" if least == 1 else f"needs at least {least} characters"
            return message, ""
        return f"needs at least {least} item(s), got {_size(value)}", "add the missing entries"
    most = ctx.get("max_length")
    unit = "characters" if text else "items"
    return f"must have at most {most} {unit}, got {_size(value)}", ""


def _size(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


def _type_hint(kind: str, value: Any) -> str:
    if kind == "string_type" and isinstance(value, bool):
        return "YAML reads yes/no/on/off/true/false as booleans; quote the value to keep it text"
    if kind == "string_type" and isinstance(value, int | float | date):
        what = "date" if isinstance(value, date) else "number"
        return f'YAML reads this as a {what}; quote it: "{value}"'
    if kind == "list_type":
        return "write a list as [a, b] or as one '- item' line per entry"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "indent the fields under this key, one 'key: value' per line"
    return ""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict | list):
        return _describe(value)
    return str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def empty_manifest(file: Location) -> ManifestError:
    return ManifestError(
        "the file holds no manifest",
        location=file,
        hint="a manifest starts with apiVersion: lodestar/v1 and kind: DataProduct",
        rule="schema",
    )
