"""The build command: summary, selection, lock behaviour and byte-for-byte reproducibility."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from builder.lock import parse_lock
from tests.conftest import FIXTURES, Project, copy_fixture


def lock_of(project: Project) -> dict:
    return parse_lock((project.root / "cards" / "ankibuild.lock").read_text(), "lock").entries


def test_summary_counts_added_changed_unchanged(project: Project) -> None:
    first = project.run().output
    assert "Built 4 cards (4 added, 0 changed, 0 unchanged since the lock; note type added" in first
    assert first.rstrip().endswith("→ dist/fixture.apkg")
    project.edit("cards/attention.yaml", "Write scaled", "Write the scaled")
    second = project.run().output
    assert "Built 4 cards (0 added, 1 changed, 3 unchanged since the lock; note type unchanged" in second


def test_two_builds_are_byte_identical(project: Project, tmp_path: Path) -> None:
    a = project.build("--out", str(tmp_path / "a.apkg")).read_bytes()
    b = project.build("--out", str(tmp_path / "b.apkg")).read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.apkg") as zf:
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in zf.infolist())


def test_source_date_epoch_makes_fresh_builds_identical(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    outputs = []
    for name in ("one", "two"):
        root = tmp_path / name
        shutil.copytree(FIXTURES / "basic", root)
        outputs.append(Project(root).build().read_bytes())
    assert outputs[0] == outputs[1]


def test_unchanged_note_keeps_mod_changed_note_gets_newer(project: Project) -> None:
    project.build()
    before = lock_of(project)
    project.edit("cards/attention.yaml", "Write scaled", "Write the scaled")
    project.build()
    after = lock_of(project)
    assert after["attention-formula"].mod > before["attention-formula"].mod
    assert after["attention-formula"].hash != before["attention-formula"].hash
    assert {k: v for k, v in after.items() if k != "attention-formula"} == {
        k: v for k, v in before.items() if k != "attention-formula"
    }


def test_tag_change_counts_as_a_change(project: Project) -> None:
    project.build()
    before = lock_of(project)
    project.edit("cards/attention.yaml", "tags: [fundamentals]", "tags: [fundamentals, fundamentals::attention]")
    project.build()
    assert lock_of(project)["attention-cost"].mod > before["attention-cost"].mod


def test_lock_never_drops_a_vanished_id(project: Project) -> None:
    project.build()
    text = (project.root / "cards" / "attention.yaml").read_text()
    (project.root / "cards" / "attention.yaml").write_text(text.split("- id: attention-cost")[0])
    project.build()
    assert "attention-cost" in lock_of(project)


def test_select_by_parent_tag_child_tag_and_exclude(project: Project, tmp_path: Path) -> None:
    def built(*args: str) -> int:
        out = project.run(*args, "--out", str(tmp_path / "x.apkg")).output
        return int(out.split("Built ")[1].split(" ")[0])

    assert built("--tags", "compression") == 2
    assert built("--tags", "compression::pruning") == 1
    assert built("--tags", "compression,fundamentals::attention") == 3
    assert built("--tags", "compression", "--tags", "fundamentals") == 4
    assert built("--exclude-tags", "compression::quantization") == 3


def test_subset_build_only_touches_its_cards_in_the_lock(project: Project, tmp_path: Path) -> None:
    project.build("--tags", "compression", "--out", str(tmp_path / "s.apkg"))
    assert set(lock_of(project)) == {"@notetype", "int8-scale", "pruning-kinds"}


def test_media_packaged_under_content_hash(project: Project) -> None:
    (project.root / "media").mkdir()
    (project.root / "media" / "diagram.png").write_bytes(b"\x89PNG fake one")
    project.edit(
        "cards/compression.yaml",
        "answer: Structured removes whole channels; unstructured zeros single weights.",
        'answer: "![d](diagram.png) Structured removes whole channels."',
    )
    apkg = project.build()
    with zipfile.ZipFile(apkg) as zf:
        names = zf.read("media").decode()
        assert "diagram-" in names and ".png" in names
        assert zf.read("0") == b"\x89PNG fake one"
    first = names
    (project.root / "media" / "diagram.png").write_bytes(b"\x89PNG fake two")
    with zipfile.ZipFile(project.build()) as zf:
        assert zf.read("media").decode() != first  # a changed image gets a new name


# --- cloze and reverse notes: lock, subsets, cache and reproducibility as for basic cards ----------


def typed_project(tmp_path: Path, name: str = "typed") -> Project:
    return copy_fixture("notetypes", tmp_path / name)


def test_lock_records_note_types_and_reverse_notes(tmp_path: Path) -> None:
    project = typed_project(tmp_path)
    out = project.run().output
    assert "Built 3 cards + 1 reverse (4 added, 0 changed, 0 unchanged since the lock; note type added" in out
    text = (project.root / "cards" / "ankibuild.lock").read_text()
    entries = lock_of(project)
    assert set(entries) == {
        "@notetype",
        "@notetype:cloze",
        "kv-cache-append",
        "perplexity-definition",
        "perplexity-definition@reverse",
        "softmax-temperature",
    }
    assert entries["softmax-temperature"].kind == "cloze" and entries["perplexity-definition"].kind == "basic"
    # A basic note's line keeps its three columns; a cloze note's names its type.
    assert (
        f"perplexity-definition {entries['perplexity-definition'].hash} {entries['perplexity-definition'].mod}\n"
        in text
    )
    assert (
        f"softmax-temperature {entries['softmax-temperature'].hash} {entries['softmax-temperature'].mod} cloze\n"
        in text
    )


def test_a_card_never_changes_note_type(tmp_path: Path) -> None:
    project = typed_project(tmp_path)
    project.build()
    lock = (project.root / "cards" / "ankibuild.lock").read_bytes()
    project.edit(
        "cards/examples.yaml",
        "  - id: perplexity-definition\n",
        "  - id: perplexity-definition\n    type: cloze\n    text: '{{c1::Perplexity}} is exp of the mean NLL.'\n",
    )
    project.edit("cards/examples.yaml", '    question: "**Perplexity** (PPL) of a language model"\n', "")
    project.edit("cards/examples.yaml", "    reverse: true\n", "")
    start = project.root.joinpath("cards/examples.yaml").read_text().split("\n").index("  - id: perplexity-definition")
    message = (
        f"cards/examples.yaml:{start + 2}: card 'perplexity-definition': was built as a basic card and is now cloze; "
        "Anki cannot change a note's type on import, so learners would never get this card (keep it basic; for a "
        "cloze card, retire this id in cards/retired.yaml and make a new card with a new id)"
    )
    assert message in project.run("check", ok=False).output
    assert message in project.run(ok=False).output  # and the build refuses
    assert (project.root / "cards" / "ankibuild.lock").read_bytes() == lock


def test_typed_builds_are_byte_identical_and_subsets_keep_identities(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = typed_project(tmp_path, "a").build().read_bytes()
    b = typed_project(tmp_path, "b").build().read_bytes()
    assert a == b
    project = typed_project(tmp_path, "c")
    full = project.build()
    out = project.run("--tags", "llm::evaluation", "--out", str(tmp_path / "sub.apkg")).output
    assert "Built 1 cards + 1 reverse (0 added, 0 changed, 2 unchanged" in out
    guids = {}
    for apkg in (full, tmp_path / "sub.apkg"):
        with zipfile.ZipFile(apkg) as zf, tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "c").write_bytes(zf.read("collection.anki2"))
            with sqlite3.connect(Path(tmp, "c")) as db:
                guids[apkg] = dict(db.execute("select guid, mid from notes"))
    assert guids[tmp_path / "sub.apkg"].items() <= guids[full].items()  # same GUIDs, same note type
    assert len(guids[tmp_path / "sub.apkg"]) == 2


def test_a_reverse_card_turned_off_is_reported_until_retired(tmp_path: Path) -> None:
    project = typed_project(tmp_path)
    project.build()
    project.edit("cards/examples.yaml", "    reverse: true\n", "")
    warning = project.run("check", "--strict", ok=False).output
    assert (
        "cards/examples.yaml:25: warning: card 'perplexity-definition': its reverse card was built before and stays "
        "in every learner's collection: turning 'reverse' off does not remove it, and it gets no more updates (turn "
        "'reverse: true' back on; or, if it is meant to go, add 'perplexity-definition@reverse: reason' to "
        "cards/retired.yaml and tell learners they may delete it)"
    ) in warning
    project.write("cards/retired.yaml", "perplexity-definition@reverse: asked both ways was not worth it\n")
    assert project.run("check", "--strict").exit_code == 0
    project.edit(
        "cards/examples.yaml", "  - id: perplexity-definition\n", "  - id: perplexity-definition\n    reverse: true\n"
    )
    error = project.run("check", ok=False).output
    assert (
        "card 'perplexity-definition': its reverse card was retired (cards/retired.yaml:1) and may not come back"
        in error
    )


def test_preview_shows_every_cloze_card_and_the_reverse_card(tmp_path: Path) -> None:
    project = typed_project(tmp_path)
    assert "Preview of 6 cards" in project.run("preview").output  # 2 + 2 cloze cards, a card and its reverse
    page = (project.root / "dist" / "preview.html").read_text()
    assert page.count("<em>c1</em>") == 2 and page.count("<em>c2</em>") == 2 and page.count("<em>reverse</em>") == 1
    assert 'data-cloze="higher"' in page and "[higher or lower?]" in page
