"""Identity and in-place updates, proven against real Anki (the `anki` package)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder import notetype
from tests.ankiclient import Learner
from tests.conftest import Project, changed_notetype, guid

DECK = "Fixture Deck"


@pytest.fixture
def learner(tmp_path: Path):
    person = Learner(tmp_path / "learner" / "collection.anki2")
    yield person
    person.close()


def test_first_import_adds_every_card_with_fixed_identity(project: Project, learner: Learner) -> None:
    log = learner.import_apkg(project.build())
    assert (log.new, log.updated, log.duplicate, log.conflicting) == (4, 0, 0, 0)
    [nt] = learner.notetypes()
    assert nt["id"] == notetype.NOTETYPE_ID
    assert [(f["name"], f["id"]) for f in nt["flds"]] == list(notetype.FIELDS)
    assert [(t["name"], t["id"]) for t in nt["tmpls"]] == [(notetype.TEMPLATE_NAME, notetype.TEMPLATE_ID)]
    assert {f["font"] for f in nt["flds"]} == {"sans-serif"}  # the editor's font, on every platform
    note = learner.note(guid("int8-scale"))
    assert note.tags == ["compression", "compression::quantization"]
    assert learner.col.decks.name(note.cards()[0].did) == DECK


def test_edit_one_answer_updates_exactly_that_note_and_keeps_reviews(project: Project, learner: Learner) -> None:
    learner.import_apkg(project.build())
    assert learner.review_all(DECK) == 4
    before = learner.card_states()
    assert all(s.reps == 1 and s.revlog == 1 for s in before.values())
    # The learner tags an unchanged note; the import must not take that tag away.
    mine = learner.note(guid("attention-cost"))
    mine.tags.append("my-weak-spot")
    learner.col.update_note(mine)
    notes_before = learner.note_count()

    project.edit("cards/compression.yaml", "Only structured pruning", "Only structured (channel) pruning")
    log = learner.import_apkg(project.build())

    # Anki logs the notes it skipped (same GUID, not newer) as "duplicate": the 3 unchanged ones.
    assert (log.new, log.updated, log.duplicate, log.conflicting) == (0, 1, 3, 0)
    assert log.first_field_updated == ("Structured vs unstructured pruning?",)
    assert learner.note(guid("pruning-kinds"))["Extra"] == "Only structured (channel) pruning speeds up dense hardware."
    assert learner.note_count() == notes_before
    assert len(learner.notetypes()) == 1
    assert learner.card_states() == before  # reps, interval, due, deck, revlog: all untouched
    assert "my-weak-spot" in learner.note(guid("attention-cost")).tags


def test_rebuild_without_changes_updates_nothing(project: Project, learner: Learner) -> None:
    learner.import_apkg(project.build())
    log = learner.import_apkg(project.build())
    assert (log.new, log.updated, log.duplicate, log.conflicting) == (0, 0, 4, 0)


@pytest.mark.parametrize("part", ["css", "template", "font"])
def test_css_or_template_change_reaches_existing_collection(
    project: Project, learner: Learner, monkeypatch, part
) -> None:
    learner.import_apkg(project.build())
    learner.review_all(DECK)
    before = learner.card_states()
    with changed_notetype(monkeypatch, part, "ab-marker"):
        log = learner.import_apkg(project.build())
    assert (log.new, log.conflicting) == (0, 0)
    [nt] = learner.notetypes()  # updated in place: no "LLM Interview+" copy
    assert nt["id"] == notetype.NOTETYPE_ID
    changed = {"css": nt["css"], "template": nt["tmpls"][0]["afmt"], "font": nt["flds"][0]["font"]}[part]
    assert "ab-marker" in changed
    assert learner.card_states() == before


def test_subset_then_full_import_creates_no_duplicates(project: Project, learner: Learner, tmp_path: Path) -> None:
    subset = project.build("--tags", "compression", "--out", str(tmp_path / "subset.apkg"))
    log = learner.import_apkg(subset)
    assert (log.new, log.conflicting) == (2, 0)
    learner.review_all(DECK)
    before = learner.card_states()
    log = learner.import_apkg(project.build())
    assert (log.new, log.updated, log.conflicting) == (2, 0, 0)
    assert learner.note_count() == 4
    after = learner.card_states()
    assert {cid: after[cid] for cid in before} == before
    assert len(learner.notetypes()) == 1
