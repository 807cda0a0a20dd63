"""Bad input: every problem reported at its line, all in one run, nothing written."""
# ruff: noqa: E501 - the expected output is one finding per line, as users see it

from __future__ import annotations

import re
import shutil

from tests.conftest import FIXTURES, Project, snapshot

EXPECTED = """\
cards/broken.yaml:5: malformed YAML: did not find expected ',' or ']' (check indentation, and quote text containing ': ' or starting with a special character)
cards/dup.yaml:1: card 'int8-scale': duplicate id, also used at cards/compression.yaml:4 (give the new card another id; never rename an existing one)
cards/missing.yaml:3: card 'no-answer': missing required field 'answer' (add 'answer:')
cards/missing.yaml:5: card 'Bad_ID': id 'Bad_ID' is not a slug (use lowercase a-z, 0-9 and single '-' between words)
cards/missing.yaml:8: missing required field 'id' (add 'id:')
cards/types.yaml:4: card 'answer-is-bool': 'answer' must be text, got a boolean (quote it, or use a '|' block)
cards/types.yaml:6: card 'tags-is-string': 'tags' must be a list of tags (write tags: [topic::subtopic])
cards/types.yaml:11: card 'empty-question': 'question' is empty (write the question)
cards/types.yaml:13: card 'empty-question': unknown key 'anser' (did you mean 'answer'?)
cards/types.yaml:15: card 'undeclared': tag 'compresion' is not declared (did you mean 'compression'?)
cards/types.yaml:15: card 'undeclared': tag 'has space' contains a space (use '-' between words)
cards/types.yaml:18: card 'undeclared': 'source' must be a list of strings (write source: ["000:4.1"], quoting each entry)
cards/types.yaml:23: card 'bad-refs-and-date': 'refs' must be a non-empty list of references (write refs: ["Vaswani et al., Attention Is All You Need, 2017. https://arxiv.org/abs/1706.03762"])
cards/types.yaml:24: card 'bad-refs-and-date': 'as_of' must be a year and month like 2026-11, got a date (write as_of: 2026-11)
14 error(s), 0 warning(s); nothing was written.
"""


def _parser_words_masked(text: str) -> str:
    return re.sub(r"(malformed YAML: ).*?( \(check indentation)", r"\1…\2", text)


def add_bad_files(project: Project) -> None:
    for path in (FIXTURES / "bad").glob("*.yaml"):
        shutil.copy(path, project.root / "cards" / path.name)


def test_every_problem_reported_once_with_location_and_nothing_written(project: Project) -> None:
    add_bad_files(project)
    before = snapshot(project.root)
    result = project.run(ok=False)
    assert result.exit_code == 1
    # The parser's own words differ between libyaml and pure-Python PyYAML; place and fix do not.
    assert _parser_words_masked(result.output) == _parser_words_masked(EXPECTED)
    assert "that starts at line 4 (" in result.output  # the unclosed '[' is on line 4, noticed on line 5
    assert "Traceback" not in result.output
    assert snapshot(project.root) == before  # no dist/, no lock, nothing touched


def test_check_reports_the_same_without_building(project: Project) -> None:
    add_bad_files(project)
    result = project.run("check", ok=False)
    assert result.exit_code == 1
    for line in _parser_words_masked(EXPECTED).splitlines()[:-1]:
        assert line in _parser_words_masked(result.output)
    assert not (project.root / "dist").exists()


def test_failed_build_keeps_previous_package_and_lock(project: Project) -> None:
    apkg = project.build()
    lock = project.root / "cards" / "ankibuild.lock"
    old_apkg, old_lock = apkg.read_bytes(), lock.read_bytes()
    project.edit("cards/compression.yaml", "id: pruning-kinds", "id: pruning kinds")
    project.edit("cards/compression.yaml", "Structured removes", "Structured (edited) removes")
    result = project.run(ok=False)
    assert "cards/compression.yaml:10: card 'pruning kinds': id 'pruning kinds' is not a slug" in result.output
    assert apkg.read_bytes() == old_apkg and lock.read_bytes() == old_lock
    assert [p.name for p in apkg.parent.iterdir()] == [apkg.name]  # no temporary file left behind


def test_unknown_tag_on_command_line(project: Project) -> None:
    result = project.run("--tags", "compresion", ok=False)
    assert result.exit_code == 1
    assert "unknown tag 'compresion' (did you mean 'compression'?)" in result.output
