"""Safe YAML reading with the line and column of every node."""

from __future__ import annotations

from pathlib import Path

import pytest

from lodestar.errors import Location
from lodestar.manifest.source import MAX_NODES, format_path, parse_yaml, read_text

pytestmark = pytest.mark.unit

FILE = Path("m.yaml")


def problems(text: str) -> list[str]:
    return [str(e) for e in parse_yaml(text, FILE)[2]]


def test_values_and_keys_are_located() -> None:
    text = "a:\n  b: [x, {c: 1}]\n  d:\n    - e: true\n"

    data, source, errors = parse_yaml(text, FILE)

    assert errors == []
    assert data == {"a": {"b": ["x", {"c": 1}], "d": [{"e": True}]}}
    assert source.values[("a", "b", 1, "c")] == (2, 14)
    assert source.keys[("a", "b", 1, "c")] == (2, 11)
    assert source.values[("a", "d", 0, "e")] == (4, 10)
    assert source.locate(("a", "d", 0, "e"), key=True) == Location(FILE, 4, 7)


def test_locating_an_absent_node_falls_back_to_its_nearest_parent() -> None:
    _, source, _ = parse_yaml("a:\n  b: 1\n", FILE)

    assert source.locate(("a", "missing", 3)) == Location(FILE, 2, 3)
    assert source.locate(("zzz",)) == Location(FILE, 1, 1)


def test_format_path() -> None:
    assert format_path(("build", "outputs", 2, "useCases", 0)) == "build.outputs[2].useCases[0]"
    assert format_path(()) == ""


def test_keys_stay_text_whatever_yaml_would_make_of_them() -> None:
    data, _, errors = parse_yaml("on: 1\n2: b\nnull: c\n", FILE)

    assert errors == []
    assert data == {"on": 1, "2": "b", "null": "c"}


def test_duplicate_keys_are_errors_and_every_one_is_reported() -> None:
    text = "a: 1\nb:\n  c: 2\n  c: 3\na: 4\n"

    data, _, errors = parse_yaml(text, FILE)

    assert [str(e) for e in errors] == [
        "m.yaml:4:3: b.c: duplicate key 'c' (first given on line 3) "
        "(hint: give each key once; YAML would silently keep only the last one)",
        "m.yaml:5:1: a: duplicate key 'a' (first given on line 1) "
        "(hint: give each key once; YAML would silently keep only the last one)",
    ]
    assert {e.rule for e in errors} == {"duplicate-key"}
    assert data == {"a": 1, "b": {"c": 2}}


def test_syntax_errors_are_located() -> None:
    assert problems("a:\n  b: 1\n c: 2\n") == [
        "m.yaml:3:2: not valid YAML: did not find expected key (while parsing a block mapping "
        "at line 1) (hint: check the indentation and the quoting around this place)"
    ]
    assert problems("a: [1, 2\nb: 3\n") == [
        "m.yaml:2:2: not valid YAML: did not find expected ',' or ']' (while parsing a flow "
        "sequence at line 1) (hint: check the indentation and the quoting around this place)"
    ]


def test_tabs_get_their_own_hint() -> None:
    assert problems("a:\n\tb: 1\n") == [
        "m.yaml:2:1: not valid YAML: found character that cannot start any token (while "
        "scanning for the next token at line 2) (hint: indent with spaces; YAML does not "
        "allow tabs)"
    ]


def test_one_document_per_file() -> None:
    assert problems("a: 1\n---\nb: 2\n") == [
        "m.yaml:2:1: not valid YAML: expected a single document in the stream, but found "
        "another document (hint: check the indentation and the quoting around this place)"
    ]


def test_control_characters_are_located() -> None:
    assert problems("a: b\nc: \x07\n") == [
        "m.yaml:2:4: not valid YAML: character U+0007 is not allowed (control characters are "
        "not allowed) (hint: remove the control character, or write it as an escape in double "
        "quotes)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: !!python/object:os.system {}\n",
            "m.yaml:1:4: a: unsupported YAML tag tag:yaml.org,2002:python/object:os.system "
            "(hint: remove the tag; manifests use plain mappings and lists)",
        ),
        (
            "a: !!python/name:os.system ''\n",
            "m.yaml:1:4: a: unsupported YAML tag tag:yaml.org,2002:python/name:os.system "
            "(hint: only plain YAML values are allowed: text, numbers, booleans, dates, null)",
        ),
        (
            "a: !!binary aGVsbG8=\n",
            "m.yaml:1:4: a: unsupported YAML tag tag:yaml.org,2002:binary "
            "(hint: only plain YAML values are allowed: text, numbers, booleans, dates, null)",
        ),
        (
            "a: !!set {x, y}\n",
            "m.yaml:1:4: a: unsupported YAML tag tag:yaml.org,2002:set "
            "(hint: remove the tag; manifests use plain mappings and lists)",
        ),
        (
            "base: &b {x: 1}\nother:\n  <<: *b\n",
            "m.yaml:3:3: other: YAML merge keys (<<) are not supported "
            "(hint: write the fields out; anchors and aliases (&name, *name) are fine)",
        ),
        (
            "? [a, b]\n: 1\n",
            "m.yaml:1:3: a mapping key must be a plain name "
            "(hint: keys are plain names such as producedBy)",
        ),
    ],
)
def test_only_plain_data_is_read(text: str, expected: str) -> None:
    assert problems(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: 2012-13-01\n",
            "m.yaml:1:4: a: '2012-13-01' is not a valid date "
            "(hint: write a real date as YYYY-MM-DD, or quote the value to keep it text)",
        ),
        (
            "a: !!bool maybe\n",
            "m.yaml:1:4: a: 'maybe' is not a valid bool (hint: quote the value to keep it text)",
        ),
        (
            "a: !!int abc\n",
            "m.yaml:1:4: a: 'abc' is not a valid int (hint: quote the value to keep it text)",
        ),
    ],
)
def test_values_yaml_cannot_build_are_errors_not_crashes(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_alias_expansion_is_bounded() -> None:
    lines = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")

    assert problems("\n".join(lines) + "\n") == [
        f"m.yaml:{len(lines) - 1}:1: the document expands to more than {MAX_NODES} values "
        "(hint: aliases (*name) are expanded; reference fewer or write the values out)"
    ]


def test_aliases_within_bounds_are_expanded() -> None:
    data, _, errors = parse_yaml("cols: &c [x, y]\nagain: *c\n", FILE)

    assert errors == []
    assert data == {"cols": ["x", "y"], "again": ["x", "y"]}


def test_an_empty_file_is_no_data_and_no_error() -> None:
    assert parse_yaml("# only a comment\n", FILE)[0::2] == (None, [])


def test_unreadable_bytes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("a: 1\nb: caf\xe9\n".encode("latin-1"))

    with pytest.raises(Exception) as raised:
        read_text(path)

    assert str(raised.value) == (
        f"{path}:2:7: not UTF-8 text: byte 0xe9 cannot be decoded (hint: save the manifest as "
        "UTF-8)"
    )


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")

    assert parse_yaml(read_text(path), path)[0] == {"a": 1}
