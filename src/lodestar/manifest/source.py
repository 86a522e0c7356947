"""Safe YAML reading that remembers where every node of a manifest came from.

PyYAML's safe composer gives a tree of nodes, each with its start mark. Rather than letting the
constructor turn that tree into plain data (and forget the marks), this module walks the tree
itself: it builds the same plain data (mappings, lists, safe scalars only) and records, for the
path of every node, the line and column of its value and, inside a mapping, of its key. Paths
are tuples of YAML keys and list indexes, e.g. ``("build", "outputs", 2, "useCases")``.

Duplicate keys, merge keys and non-standard tags are reported as errors, not silently resolved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lodestar.errors import Location, ManifestError

log = logging.getLogger(__name__)

try:  # NOTE: libyaml composes about ten times faster; marks are the same
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader

DataPath = tuple[str | int, ...]
Position = tuple[int, int]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
#: the scalar types a manifest may hold; binary, python/* and local tags are refused
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")
)
#: nodes built per file before giving up; aliases can expand a small file enormously
MAX_NODES = 200_000


def format_path(path: Iterable[str | int]) -> str:
    """``("build", "outputs", 2, "useCases")`` -> ``build.outputs[2].useCases``."""
    text = ""
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text += f".{item}" if text else str(item)
    return text


@dataclass
class SourceMap:
    """Line and column (1-based) of every value and mapping key of one YAML file."""

    file: Path | None
    values: dict[DataPath, Position] = field(default_factory=dict)
    keys: dict[DataPath, Position] = field(default_factory=dict)

    def locate(self, path: DataPath, *, key: bool = False) -> Location:
        """Where ``path`` is; the nearest enclosing node when the path itself is absent.

        ``key=True`` points at the mapping key of the path rather than at its value.
        """
        if key and path in self.keys:
            return Location(self.file, *self.keys[path])
        for end in range(len(path), -1, -1):
            position = self.values.get(path[:end])
            if position is not None:
                return Location(self.file, *position)
        return Location(self.file)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader; only its composer and scalar constructors are used."""


def _position(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Plain data from a node tree, recording positions and collecting problems."""

    def __init__(self, loader: _Loader, source: SourceMap) -> None:
        self.loader = loader
        self.source = source
        self.errors: list[ManifestError] = []
        self.count = 0

    def error(self, node: yaml.Node, path: DataPath, message: str, hint: str, rule: str) -> None:
        location = Location(self.source.file, *_position(node))
        self.errors.append(
            ManifestError(message, location=location, field=format_path(path), hint=hint, rule=rule)
        )

    def build(self, node: yaml.Node, path: DataPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(path)
        self.source.values.setdefault(path, _position(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self._bad_tag(node, path)
                return None
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: DataPath) -> dict[str, Any] | None:
        if node.tag != _MAP_TAG:
            self._bad_tag(node, path)
            return None
        result: dict[str, Any] = {}
        first: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                hint = "keys are plain names such as producedBy"
                self.error(key_node, path, "a mapping key must be a plain name", hint, "yaml")
                continue
            if key_node.tag == _MERGE_TAG:
                hint = "write the fields out; anchors and aliases (&name, *name) are fine"
                self.error(key_node, path, "YAML merge keys (<<) are not supported", hint, "yaml")
                continue
            key = str(key_node.value)  # NOTE: keys stay text: `on:` or `1:` are names here
            child = (*path, key)
            if key in first:
                line = first[key].start_mark.line + 1
                message = f"duplicate key {key!r} (first given on line {line})"
                hint = "give each key once; YAML would silently keep only the last one"
                self.error(key_node, child, message, hint, "duplicate-key")
                continue
            first[key] = key_node
            self.source.keys[child] = _position(key_node)
            result[key] = self.build(value_node, child)
        return result

    def _scalar(self, node: yaml.Node, path: DataPath) -> Any:
        hint = "only plain YAML values are allowed: text, numbers, booleans, dates, null"
        if node.tag == _STR_TAG:  # NOTE: most values; the constructor would only copy them
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.error(node, path, f"unsupported YAML tag {node.tag}", hint, "yaml")
            return None
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            problem = exc.problem or "cannot read this value"
            self.error(node, path, f"unsupported YAML value: {problem}", hint, "yaml")
            return None
        except (ValueError, KeyError, TypeError, OverflowError):
            # NOTE: 2012-13-01 looks like a date to YAML but is none; so is `!!bool maybe`
            kind = str(node.tag).rsplit(":", 1)[-1]
            what = "date" if kind == "timestamp" else kind
            hint = "quote the value to keep it text"
            if what == "date":
                hint = "write a real date as YYYY-MM-DD, or quote the value to keep it text"
            self.error(node, path, f"{node.value!r} is not a valid {what}", hint, "yaml")
            return None

    def _bad_tag(self, node: yaml.Node, path: DataPath) -> None:
        hint = "remove the tag; manifests use plain mappings and lists"
        self.error(node, path, f"unsupported YAML tag {node.tag}", hint, "yaml")


class _TooLarge(Exception):
    def __init__(self, path: DataPath) -> None:
        self.path = path


def read_text(path: Path) -> str:
    """The file's text; unreadable or non-UTF-8 files raise a located ManifestError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = "check the path and its permissions"
        raise ManifestError(
            f"cannot read the file: {reason}", location=Location(path), hint=hint, rule="io"
        ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded",
            location=Location(path, line, column),
            hint="save the manifest as UTF-8",
            rule="io",
        ) from exc


def parse_yaml(text: str, file: Path | None = None) -> tuple[Any, SourceMap, list[ManifestError]]:
    """Plain data, its source map and every problem found (YAML syntax, duplicates, tags).

    A syntax error stops the reading (the data is then ``None``); the other problems are all
    collected and the data is still returned, without the offending keys.
    """
    source = SourceMap(file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source, []
        builder = _Builder(loader, source)
        data = builder.build(node, ())
        return data, source, builder.errors
    except yaml.MarkedYAMLError as exc:
        return None, source, [_syntax_error(exc, text, file)]
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"not valid YAML: character U+{code:04X} is not allowed ({exc.reason})"
        hint = "remove the control character, or write it as an escape in double quotes"
        location = Location(file, line, column)
        return None, source, [ManifestError(message, location=location, hint=hint, rule="yaml")]
    except _TooLarge as exc:
        message = f"the document expands to more than {MAX_NODES} values"
        hint = "aliases (*name) are expanded; reference fewer or write the values out"
        location = source.locate(exc.path[:1], key=True)
        return None, source, [ManifestError(message, location=location, hint=hint, rule="yaml")]
    except RecursionError:
        message = "the document is nested too deeply"
        return None, source, [ManifestError(message, location=Location(file, 1, 1), rule="yaml")]
    finally:
        loader.dispose()


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: Path | None) -> ManifestError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or "syntax error"
    if exc.context and problem.startswith("but "):
        problem = f"{exc.context}, {problem}"
    elif exc.context:
        where = f" at line {exc.context_mark.line + 1}" if exc.context_mark is not None else ""
        problem = f"{problem} ({exc.context}{where})"

    lines = text.splitlines()
    here = lines[line - 1][column - 1 : column] if 0 < line <= len(lines) else ""
    hint = "check the indentation and the quoting around this place"
    if here == "\t":
        hint = "indent with spaces; YAML does not allow tabs"
    return ManifestError(
        f"not valid YAML: {problem}", location=Location(file, line, column), hint=hint, rule="yaml"
    )
