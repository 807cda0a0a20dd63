"""`[tool.ankibuild]`: identity is required and typed, never defaulted; the other settings are checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builder.config import load_config
from builder.errors import ConfigError
from builder.notetype import note_types
from tests.conftest import FIXTURES, Project


def config_error(root: Path, toml: str) -> str:
    (root / "pyproject.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(root)
    return err.value.message


def test_missing_identity_is_one_error_naming_every_key_and_init(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[tool.ankibuild]\ndeck-name = "Mine"\n')
    assert "\n" not in message  # one error
    assert message.startswith(
        "pyproject.toml: [tool.ankibuild] missing identity keys: deck-id, guid-namespace, "
        "[tool.ankibuild.notetypes.basic] (id, name, fields Question / Answer / Extra / Source / ID, "
        "templates Recall), [tool.ankibuild.notetypes.cloze] (id, name, fields Text / Extra / Source / ID, "
        "templates Cloze) ("
    )
    assert "ankibuild init DIR" in message and "never fresh ones" in message


def test_missing_keys_inside_a_note_type_are_named_each(tmp_path: Path) -> None:
    toml = (FIXTURES / "basic" / "pyproject.toml").read_text()
    toml = re.sub(r"fields = \{ Question = \d+, ", "fields = { ", toml, count=1)
    toml = re.sub(r"\ntemplates = \{ Cloze = \d+ \}", "", toml)
    message = config_error(tmp_path, toml)
    assert "missing identity keys: notetypes.basic.fields.Question, notetypes.cloze.templates.Cloze (" in message


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("deck-id = ", 'deck-id = "1"  # ', "deck-id must be a whole number, got str"),
        ("deck-id = ", "deck-id = 0  # ", "deck-id must be between 1 and 9007199254740991, got 0"),
        ('guid-namespace = "', 'guid-namespace = 7  # "', "guid-namespace must be a string, got int"),
        (
            "[tool.ankibuild.notetypes.basic]",
            "[tool.ankibuild.notetypes.basics]\n[tool.ankibuild.notetypes.basic]",
            "notetypes has unknown note type 'basics' (the tool's note types: basic, cloze)",
        ),
        ("fields = { Question", "fields = { Front = 5, Question", "notetypes.basic.fields has unknown field 'Front'"),
        ("Answer = ", "Answer = true, Answerx = ", "notetypes.basic.fields.Answer must be a whole number, got bool"),
        (
            "package-name = ",
            'report-url = "https://x.org/new"\npackage-name = ',
            "report-url must be an http(s) URL with {id}",
        ),
        (
            "package-name = ",
            'code-style-dark = "github-darkk"\npackage-name = ',
            "code-style-dark 'github-darkk' is not a pygments style (did you mean 'github-dark'?)",
        ),
        ("package-name = ", 'as-of-max-months = "12"\npackage-name = ', "as-of-max-months must be int, got str"),
        ("package-name = ", "colour = 1\npackage-name = ", "unknown key 'colour'"),
    ],
)
def test_every_key_is_type_checked(tmp_path: Path, old: str, new: str, problem: str) -> None:
    toml = (FIXTURES / "basic" / "pyproject.toml").read_text()
    assert old in toml
    assert problem in config_error(tmp_path, toml.replace(old, new, 1))


def test_note_types_share_no_id(tmp_path: Path) -> None:
    toml = (FIXTURES / "basic" / "pyproject.toml").read_text()
    basic_id = re.search(r"notetypes.basic\]  # never change these either\nid = (\d+)", toml)[1]
    toml = re.sub(r"(notetypes.cloze\]  # never change these either\nid = )\d+", rf"\g<1>{basic_id}", toml)
    assert "two note types share an id" in config_error(tmp_path, toml)


def test_no_project_is_an_error_that_points_at_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="start one with `ankibuild init DIR`"):
        load_config(tmp_path)


def test_css_file_and_report_url_change_the_note_types(project: Project) -> None:
    before = {k: nt.content_hash() for k, nt in note_types(load_config(project.root)).items()}
    project.write("deck.css", ".ab-question { color: teal; }\n")
    project.edit("pyproject.toml", "[tool.ankibuild]\n", '[tool.ankibuild]\ncss-file = "deck.css"\n')
    styled = note_types(load_config(project.root))
    assert all(".ab-question { color: teal; }" in nt.css for nt in styled.values())
    assert all(styled[k].content_hash() != before[k] for k in before)
    project.edit(
        "pyproject.toml",
        "[tool.ankibuild]\n",
        '[tool.ankibuild]\nreport-url = "https://example.org/issues/new?title=Card+{id}&x=1"\n'
        'report-label = "报告问题"\n',
    )
    linked = note_types(load_config(project.root))
    for nt in linked.values():
        [template] = nt.templates
        assert (
            '<a class="ab-report" href="https://example.org/issues/new?title=Card+{{text:ID}}&amp;x=1">报告问题</a>'
            in template.back
        )
        assert "ab-report" not in template.front
    project.edit("pyproject.toml", 'css-file = "deck.css"\n', 'css-file = "nope.css"\n')
    with pytest.raises(ConfigError, match=r"css-file 'nope\.css' cannot be read"):
        note_types(load_config(project.root))


def test_code_styles_are_part_of_the_note_type(project: Project) -> None:
    before = note_types(load_config(project.root))["basic"]
    project.edit("pyproject.toml", "[tool.ankibuild]\n", '[tool.ankibuild]\ncode-style-light = "friendly"\n')
    after = note_types(load_config(project.root))["basic"]
    assert after.css != before.css and after.content_hash() != before.content_hash()
    assert after.schema() == before.schema()  # a style is never a schema change
