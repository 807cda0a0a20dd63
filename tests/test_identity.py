"""No learner's note changes identity: this deck's GUIDs and ids, as built, against the values it
was published with (tests/golden/identity-2026-11.tsv, taken before identity moved into the config).

The expected ids are written out here, not read from a golden file that `make golden` regenerates.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml

from builder.build import build
from builder.cache import RenderCache
from builder.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
TSV = ROOT / "tests" / "golden" / "identity-2026-11.tsv"

NOTETYPE_ID = 1_763_862_400_123
FIELDS = [
    ("Question", 2_579_782_694_648_928),
    ("Answer", 951_554_044_309_877),
    ("Extra", 3_525_319_889_284_582),
    ("Source", 2_038_855_519_326_055),
    ("ID", 167_849_371_102_471),
]
TEMPLATES = [("Recall", 4_455_257_155_701_710)]
DECK_ID = 1_731_574_220
DECK_NAME = "LLM Interview 大模型面试"


def published() -> dict[str, str]:
    rows = [line.split("\t") for line in TSV.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return dict(rows)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The deck as built today: its notes (ID field → GUID, note type), note types and decks."""
    root = tmp_path_factory.mktemp("identity")
    for name in ("cards", "media"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "pyproject.toml", root)
    result = build(load_config(root), out=root / "deck.apkg", cache=RenderCache(None))
    db_path = root / "collection.anki2"
    with zipfile.ZipFile(result.out) as zf:
        db_path.write_bytes(zf.read("collection.anki2"))
    with sqlite3.connect(db_path) as db:
        notes = {}
        for guid, mid, flds in db.execute("select guid, mid, flds from notes"):
            fields = flds.split("\x1f")
            notes.setdefault(fields[-1], []).append((guid, mid))
        models, decks = (json.loads(v) for v in db.execute("select models, decks from col").fetchone())
    return {"notes": notes, "models": models, "decks": decks}


def test_the_published_list_is_whole() -> None:
    ids = published()
    assert len(ids) == 411
    assert "# note type id: 1763862400123" in TSV.read_text(encoding="utf-8")


def test_every_published_card_keeps_its_guid(package: dict) -> None:
    retired = (
        yaml.safe_load((ROOT / "cards" / "retired.yaml").read_text()) if (ROOT / "cards/retired.yaml").exists() else {}
    )
    lost, changed = [], []
    for card_id, guid in published().items():
        built = [g for g, _mid in package["notes"].get(card_id, [])]
        if not built:
            if card_id not in (retired or {}):
                lost.append(card_id)
        elif guid not in built:
            changed.append(f"{card_id}: {guid} -> {built}")
    assert changed == []
    assert lost == []  # a published card may only go away through cards/retired.yaml


def test_note_type_field_template_and_deck_ids_are_the_published_ones(package: dict) -> None:
    basic = package["models"][str(NOTETYPE_ID)]
    assert [(f["name"], f["id"]) for f in basic["flds"]] == FIELDS
    assert [(t["name"], t["id"]) for t in basic["tmpls"]] == TEMPLATES
    published_ids = set(published())
    assert all(mid == NOTETYPE_ID for card_id in published_ids for _g, mid in package["notes"].get(card_id, []))
    assert package["decks"][str(DECK_ID)]["name"] == DECK_NAME


def test_the_config_pins_them_and_the_code_holds_none() -> None:
    config = load_config(ROOT)
    assert (config.guid_namespace, config.deck_id, config.deck_name) == ("ankibuild", DECK_ID, DECK_NAME)
    assert config.notetypes["basic"].id == NOTETYPE_ID
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "builder").glob("*.py"))
    for value in (NOTETYPE_ID, DECK_ID, *(i for _n, i in FIELDS), *(i for _n, i in TEMPLATES)):
        assert str(value) not in source and f"{value:_}" not in source, value
    defaults = {f.name: f.default for f in dataclasses.fields(Config)}
    for key in ("guid_namespace", "deck_id", "deck_name"):
        assert defaults[key] is dataclasses.MISSING, key  # identity is never defaulted
