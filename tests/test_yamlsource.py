"""YAML is read with every value's line and column, dates as written, and bombs refused."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from evidencechain.yamlsource import YamlLoadError, format_path, load_yaml


def _load(tmp_path: Path, text: str | bytes):
    f = tmp_path / "x.yml"
    f.write_bytes(text.encode() if isinstance(text, str) else text)
    return load_yaml(f, PurePosixPath("x.yml"))


def test_values_keep_their_line_and_column(tmp_path):
    doc = _load(tmp_path, "a: 1\nlist:\n  - name: first\n  - name: second\n")

    assert doc.data == {"a": 1, "list": [{"name": "first"}, {"name": "second"}]}
    assert doc.locate(("list", 1, "name")) == (4, 11)
    assert doc.locate(("list", 1, "name"), key=True) == (4, 5)
    assert doc.locate(("list", 1, "missing")) == (4, 5)


def test_dates_stay_strings_and_scalars_keep_their_types(tmp_path):
    doc = _load(tmp_path, "d: 2024-05-01\nn: 3\nf: 0.5\nb: true\nz: null\ns: '01'\n")

    assert doc.data == {"d": "2024-05-01", "n": 3, "f": 0.5, "b": True, "z": None, "s": "01"}


def test_bom_is_ignored(tmp_path):
    assert _load(tmp_path, b"\xef\xbb\xbfa: 1\n").data == {"a": 1}


def test_merge_keys_are_resolved(tmp_path):
    doc = _load(tmp_path, "base: &b {x: 1}\nchild:\n  <<: *b\n  y: 2\n")
    assert doc.data["child"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(("text", "where", "words"), [
    ("a: 1\na: 2\n", (2, 1), "duplicate key 'a'"),
    ("a:\n\tb: 1\n", (2, 1), "tab used for indentation"),
    ("a: [1, 2\n", (1, 4), "the '[' opened here is not closed by ']' before 2:1"),
    ('a: "open\nb: "x"\n', (1, 4), 'the " opened here is not closed on its line'),
    ("a: 'it''s open\nb: 1\n", (1, 4), "the ' opened here is not closed on its line"),
    ("a: 1\n  b: 2\n", (2, 4), "or indent this line like the key above it"),
    ("a: \"closed\"\nb: [\n", (3, 1), "invalid YAML"),  # a closed quote is not blamed
    ("", (1, 1), "file is empty"),
    (b"a: \xff\n", (1, 4), "not UTF-8"),
])
def test_bad_yaml_is_located(tmp_path, text, where, words):
    with pytest.raises(YamlLoadError) as info:
        _load(tmp_path, text)
    problem = info.value.problem
    assert (problem.line, problem.col) == where
    assert words in problem.message


def test_alias_bomb_is_refused_quickly(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefgh"):
        prev = "abcdefgh"[i]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(YamlLoadError, match="more than 100000 values"):
        _load(tmp_path, "\n".join(levels) + "\n")


def test_huge_file_is_refused(tmp_path):
    with pytest.raises(YamlLoadError, match="limited to"):
        _load(tmp_path, "a: '" + "x" * (3 * 1024 * 1024) + "'\n")


def test_format_path():
    assert format_path(()) == "$"
    assert format_path(("iterations", 1, "date")) == "$.iterations[1].date"
