"""The JSON Schema editors use (VS Code's YAML extension) agrees with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parent.parent
CARDS = ROOT / "cards"
SCHEMA = json.loads((ROOT / "schema" / "cards.schema.json").read_text())
TAGS_SCHEMA = json.loads((ROOT / "schema" / "tags.schema.json").read_text())
REAL_FILES = sorted(p for p in CARDS.rglob("*.yaml") if p.name not in ("tags.yaml", "retired.yaml"))


def test_schemas_are_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(TAGS_SCHEMA)


@pytest.mark.parametrize("path", REAL_FILES, ids=[p.relative_to(CARDS).as_posix() for p in REAL_FILES])
def test_every_real_card_file_matches_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), SCHEMA)


def test_tag_registry_matches_its_schema() -> None:
    jsonschema.validate(yaml.safe_load((CARDS / "tags.yaml").read_text(encoding="utf-8")), TAGS_SCHEMA)


@pytest.mark.parametrize(
    "card",
    [
        {"id": "x", "question": "q"},  # no answer
        {"id": "Bad_ID", "question": "q", "answer": "a"},
        {"id": "x", "question": "q", "answer": True},
        {"id": "x", "question": "q", "answer": "a", "anser": "typo"},
        {"id": "x", "question": "q", "answer": "a", "tags": "compression"},
        {"id": "x", "question": "  ", "answer": "a"},
        {"id": "x", "type": "cloze", "question": "q", "answer": "a"},  # a cloze card has text
        {"id": "x", "type": "cloze", "text": "{{c1::a}}", "reverse": True},
        {"id": "x", "question": "q", "answer": "a", "text": "t"},
        {"id": "x", "question": "q", "answer": "a", "reverse": "yes"},
        {"id": "x", "type": "clozed", "text": "t"},
    ],
)
def test_schema_rejects_what_the_loader_rejects(card: dict) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([card], SCHEMA)


@pytest.mark.parametrize(
    "card",
    [
        {"id": "x", "type": "cloze", "text": "{{c1::a}}", "extra": "e", "tags": ["t"]},
        {"id": "x", "question": "q", "answer": "a", "reverse": True, "refs": ["A, B, 2020."], "as_of": "2026-11"},
    ],
)
def test_schema_accepts_what_the_loader_accepts(card: dict) -> None:
    jsonschema.validate([card], SCHEMA)


FIXTURE_FILES = sorted((ROOT / "tests" / "fixtures" / "notetypes" / "cards").glob("[!t]*.yaml"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.name for p in FIXTURE_FILES])
def test_cloze_and_reverse_examples_match_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), SCHEMA)


def test_vscode_maps_the_schema_onto_card_files() -> None:
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text())
    assert "cards/**/*.yaml" in settings["yaml.schemas"]["./schema/cards.schema.json"]
