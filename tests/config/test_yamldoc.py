"""YAML with positions: marks of keys and values, duplicate keys, syntax errors, scalars."""

from __future__ import annotations

from pathlib import Path

from nurture.config.yamldoc import Mark, format_path, load_yaml


def load(tmp_path: Path, text: str):
    path = tmp_path / "file.yaml"
    path.write_text(text)
    return load_yaml(path, "file.yaml")


class TestPositions:
    def test_keys_and_values_have_one_based_line_and_column(self, tmp_path):
        doc, problems = load(tmp_path, "sender:\n  from: maya@example.com\n")
        assert problems == []
        assert doc.data == {"sender": {"from": "maya@example.com"}}
        assert doc.key_mark(("sender", "from")) == Mark(2, 3)
        assert doc.value_mark(("sender", "from")) == Mark(2, 9)

    def test_list_items_are_addressed_by_index(self, tmp_path):
        doc, _ = load(tmp_path, "steps:\n  - id: a\n  - id: b\n    wait: 2d\n")
        assert doc.value_mark(("steps", 1, "wait")) == Mark(4, 11)
        assert doc.key_mark(("steps", 1)) == Mark(3, 5)

    def test_a_path_not_written_falls_back_to_its_nearest_parent(self, tmp_path):
        doc, _ = load(tmp_path, "sender:\n  from: x\n")
        assert doc.value_mark(("sender", "reply_to")) == Mark(2, 3)
        assert doc.key_mark(("sender", "reply_to")) == Mark(2, 3)

    def test_problem_at_key_or_value(self, tmp_path):
        doc, _ = load(tmp_path, "frequency_cap:\n  max: 0\n")
        at_value = doc.problem(("frequency_cap", "max"), "bad")
        at_key = doc.problem(("frequency_cap", "max"), "bad", at_key=True)
        assert (at_value.line, at_value.column, at_value.path) == (2, 8, "frequency_cap.max")
        assert (at_key.line, at_key.column) == (2, 3)

    def test_format_path(self):
        assert format_path(("steps", 3, "wait_for", "timeout")) == "steps[3].wait_for.timeout"
        assert format_path(()) == ""


class TestDuplicateKeys:
    def test_duplicate_key_names_both_lines(self, tmp_path):
        _, problems = load(tmp_path, "sender:\n  from: a@example.com\n  from: b@example.com\n")
        [problem] = problems
        assert (problem.file, problem.line, problem.column) == ("file.yaml", 3, 3)
        assert problem.path == "sender.from"
        assert "found key 'from' again (first at line 2)" in problem.message

    def test_the_first_value_is_kept_and_the_rest_still_read(self, tmp_path):
        doc, _ = load(tmp_path, "a: 1\na: 2\nb: 3\n")
        assert doc.data == {"a": 1, "b": 3}


class TestSyntaxErrors:
    def test_syntax_error_is_a_problem_at_the_parser_position(self, tmp_path):
        doc, problems = load(tmp_path, "id: x\nstages: [cold\nsteps: []\n")
        [problem] = problems
        assert (problem.line, problem.column) == (3, 6)
        assert problem.message.startswith("invalid YAML: expected ',' or ']'")
        assert doc.broken

    def test_bad_indentation(self, tmp_path):
        _, problems = load(tmp_path, "sender:\n  from: a\n postal_address: b\n")
        [problem] = problems
        assert problem.line == 3
        assert "invalid YAML" in problem.message

    def test_text_that_is_not_utf8(self, tmp_path):
        path = tmp_path / "file.yaml"
        path.write_bytes(b"id: ok\nname: caf\xe9\n")
        _, problems = load_yaml(path, "file.yaml")
        [problem] = problems
        assert (problem.line, problem.column) == (2, 10)
        assert "found byte 0xe9; expected UTF-8 text" in problem.message

    def test_two_documents_in_one_file(self, tmp_path):
        _, problems = load(tmp_path, "a: 1\n---\nb: 2\n")
        [problem] = problems
        assert problem.line == 2
        assert "expected a single document" in problem.message


class TestScalars:
    def test_yaml_1_2_core_schema(self, tmp_path):
        text = (
            "country: NO\nuntil: 10:00\nok: yes\nflag: true\n"
            "n: 12\nx: 1.5\nnone: ~\nday: 2024-01-02\n"
        )
        doc, problems = load(tmp_path, text)
        assert problems == []
        assert doc.data == {
            "country": "NO",
            "until": "10:00",
            "ok": "yes",
            "flag": True,
            "n": 12,
            "x": 1.5,
            "none": None,
            "day": "2024-01-02",
        }

    def test_quoted_numbers_stay_text(self, tmp_path):
        doc, _ = load(tmp_path, "zip: '02134'\n")
        assert doc.data == {"zip": "02134"}

    def test_empty_file_is_no_data(self, tmp_path):
        doc, problems = load(tmp_path, "# only a comment\n")
        assert (doc.data, problems, doc.broken) == (None, [], False)

    def test_tags_are_refused(self, tmp_path):
        _, problems = load(tmp_path, "a: !secret x\n")
        [problem] = problems
        assert (problem.line, problem.column, problem.path) == (1, 4, "a")
        assert "found tag '!secret'" in problem.message

    def test_merge_keys_are_refused(self, tmp_path):
        _, problems = load(tmp_path, "base: &b {x: 1}\nother:\n  <<: *b\n")
        [problem] = problems
        assert (problem.line, problem.column) == (3, 3)
        assert "merge key" in problem.message

    def test_aliases_are_expanded(self, tmp_path):
        doc, problems = load(tmp_path, "a: &send {template: t.html}\nb: *send\n")
        assert problems == []
        assert doc.data == {"a": {"template": "t.html"}, "b": {"template": "t.html"}}

    def test_recursive_alias_is_refused(self, tmp_path):
        _, problems = load(tmp_path, "a: &a [*a]\n")
        [problem] = problems
        assert "recursive or oversized alias" in problem.message
