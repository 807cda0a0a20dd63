"""Identity and in-place updates, proven against real Anki (the `anki` package)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder import init as init_module
from builder.config import load_config
from tests.ankiclient import Learner
from tests.conftest import Project, changed_notetype, copy_fixture, guid

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
    ids = load_config(project.root).notetypes["basic"]
    assert nt["id"] == ids.id
    assert [(f["name"], f["id"]) for f in nt["flds"]] == list(ids.fields)
    assert [(t["name"], t["id"]) for t in nt["tmpls"]] == list(ids.templates)
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
    assert nt["id"] == load_config(project.root).notetypes["basic"].id
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


def test_turning_reverse_on_adds_one_card_and_leaves_the_forward_card_alone(project: Project, learner: Learner) -> None:
    learner.import_apkg(project.build())
    assert learner.review_all(DECK) == 4
    before = learner.card_states()
    forward = learner.note(guid("pruning-kinds"))
    forward_mod = forward.mod

    project.edit("cards/compression.yaml", "  - id: pruning-kinds\n", "  - id: pruning-kinds\n    reverse: true\n")
    log = learner.import_apkg(project.build())

    assert (log.new, log.updated, log.conflicting) == (1, 0, 0)  # the reverse note, nothing else
    assert learner.note_count() == 5
    after = learner.card_states()
    assert {cid: after[cid] for cid in before} == before  # reps, interval, due, revlog of every old card
    assert learner.note(guid("pruning-kinds")).mod == forward_mod  # the forward note was not even updated
    reverse = learner.note(guid("pruning-kinds", "reverse"))
    assert reverse["Question"] == forward["Answer"] and reverse["Answer"] == forward["Question"]
    assert reverse.note_type()["id"] == forward.note_type()["id"]  # same note type, its one template
    assert len(learner.notetypes()) == 1
    [new_card] = reverse.cards()
    assert new_card.reps == 0 and learner.col.decks.name(new_card.did) == DECK

    # Turned off again: `check` says the reverse card stays with learners; a re-import changes nothing.
    project.edit("cards/compression.yaml", "    reverse: true\n", "")
    warning = project.run("check").output
    assert "card 'pruning-kinds': its reverse card was built before and stays in every learner's collection" in warning
    log = learner.import_apkg(project.build())
    assert (log.new, log.updated, log.conflicting) == (0, 0, 0)
    assert learner.note_count() == 5


def test_two_decks_with_the_same_card_ids_stay_apart(project: Project, learner: Learner, tmp_path: Path) -> None:
    """The bug this identity design fixes: a second ankibuild deck took over the first deck's notes."""
    other = copy_fixture("basic", tmp_path / "other")
    fresh = init_module.pyproject("Other Deck")  # its own identity, as `ankibuild init` gives it
    other.write("pyproject.toml", fresh.replace('package-name = "other-deck"', 'package-name = "fixture"'))
    other.edit("cards/compression.yaml", "Structured removes whole channels", "The other deck's answer")

    learner.import_apkg(project.build())
    learner.review_all(DECK)
    before = learner.card_states()
    ours = learner.note(guid("pruning-kinds"))["Answer"]

    log = learner.import_apkg(other.build())
    assert (log.new, log.updated, log.duplicate, log.conflicting) == (4, 0, 0, 0)  # all its own notes
    assert learner.note_count() == 8
    assert learner.note(guid("pruning-kinds"))["Answer"] == ours  # ours untouched
    assert learner.card_states().items() >= before.items()
    theirs = learner.col.find_notes('"deck:Other Deck"')
    assert len(theirs) == 4
    assert {learner.col.get_note(n)["Answer"] for n in theirs} >= {
        "The other deck's answer; unstructured zeros single weights."
    }
    assert len(learner.notetypes()) == 2

    # A style change in the other deck restyles only the other deck's note type.
    other.write("deck.css", ".ab-question { color: purple; }\n")
    other.edit("pyproject.toml", "[tool.ankibuild]\n", '[tool.ankibuild]\ncss-file = "deck.css"\n')
    learner.import_apkg(other.build())
    styles = {nt["name"]: nt["css"] for nt in learner.notetypes()}
    assert "color: purple" in styles["Other Deck (ankibuild)"]
    assert "color: purple" not in styles["Fixture Deck (ankibuild)"]


def test_report_link_carries_the_card_id_in_anki(project: Project, learner: Learner) -> None:
    project.edit(
        "pyproject.toml", "[tool.ankibuild]\n", '[tool.ankibuild]\nreport-url = "https://example.org/new?card={id}"\n'
    )
    learner.import_apkg(project.build())
    back = learner.note(guid("pruning-kinds")).cards()[0].answer()
    assert '<a class="ab-report" href="https://example.org/new?card=pruning-kinds">Report a problem</a>' in back
