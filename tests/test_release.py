"""Releases: `ankibuild changes` from git, `ankibuild release` reproducibly, and what learners get."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ankiclient import Learner
from tests.conftest import Project, copy_fixture, guid

ROOT = Path(__file__).resolve().parent.parent
DECK = "Fixture Deck"


def git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_DATE": "2026-11-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-11-01T00:00:00Z"}
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Project:
    """The fixture deck as a git repository with its lock built and committed, tagged v1.0.0."""
    project = copy_fixture("basic", tmp_path / "deck")
    project.build()
    git(project.root, "init", "-q", "-b", "main")
    (project.root / ".gitignore").write_text("dist/\n")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "v1")
    git(project.root, "tag", "v1.0.0")
    return project


def release_files(project: Project) -> dict[str, bytes]:
    folder = project.root / "dist" / "release"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def edit_and_commit(project: Project) -> None:
    """One answer changed, one card added, one retired; lock rebuilt and committed."""
    project.edit("cards/compression.yaml", "Only structured pruning", "Only structured (channel) pruning")
    path = project.root / "cards" / "extra.yaml"
    path.write_text(
        "- id: new-card\n  tags: [compression]\n  question: A new question?\n  answer: A new answer.\n",
        encoding="utf-8",
    )
    attention = project.root / "cards" / "attention.yaml"
    text = attention.read_text(encoding="utf-8")
    attention.write_text(text[: text.index("- id: attention-cost")], encoding="utf-8")
    (project.root / "cards" / "retired.yaml").write_text("attention-cost: merged into attention-formula\n")
    project.build()
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "v1.1")


def test_changes_lists_added_changed_and_retired_cards(repo: Project) -> None:
    edit_and_commit(repo)
    out = repo.run("changes").output
    assert out.startswith("## Changes since v1.0.0\n")
    assert "+1 cards, 1 updated, 1 retired" in out
    assert "- `attention-cost`: merged into attention-formula" in out
    assert "- A new question? (`new-card`, compression)" in out
    assert "(`pruning-kinds`): extra" in out
    data = json.loads(repo.run("changes", "--format", "json").output)
    assert [c["id"] for c in data["added"]] == ["new-card"]
    assert data["changed"] == [
        {"id": "pruning-kinds", "question": "Structured vs unstructured pruning?", "fields": ["extra"]}
    ]
    assert data["retired"] == [{"id": "attention-cost", "reason": "merged into attention-formula"}]


def test_changes_names_what_is_wrong_with_its_ref(repo: Project, tmp_path: Path) -> None:
    bad = repo.run("changes", "--since", "v9.9", ok=False)
    assert bad.exit_code == 1 and "unknown git ref 'v9.9'" in bad.output
    outside = copy_fixture("basic", tmp_path / "nogit")
    result = outside.run("changes", ok=False)
    assert result.exit_code == 1 and "not in a git repository" in result.output
    assert "Traceback" not in result.output + bad.output


def test_release_writes_versioned_packages_changes_and_checksums(repo: Project) -> None:
    edit_and_commit(repo)
    git(repo.root, "tag", "v1.1.0")
    repo.run("release")
    files = release_files(repo)
    assert set(files) == {
        "fixture-1.1.0.apkg",
        "fixture-compression-1.1.0.apkg",
        "fixture-fundamentals-1.1.0.apkg",
        "CHANGES.md",
        "SHA256SUMS",
    }
    assert "Since v1.0.0: +1 cards, 1 updated, 1 retired." in files["CHANGES.md"].decode()
    sums = dict(line.split("  ")[::-1] for line in files["SHA256SUMS"].decode().splitlines())
    assert {name: hashlib.sha256(files[name]).hexdigest() for name in sums} == sums
    assert set(sums) == set(files) - {"SHA256SUMS"}


def test_the_same_tag_releases_the_same_bytes_anywhere(repo: Project, tmp_path: Path) -> None:
    repo.run("release")
    first = release_files(repo)
    clone = tmp_path / "elsewhere"
    git(tmp_path, "clone", "-q", str(repo.root), str(clone))
    Project(clone).run("release", "--jobs", "1")
    assert release_files(Project(clone)) == first


def test_release_refuses_a_lock_that_is_not_up_to_date(repo: Project) -> None:
    repo.edit("cards/compression.yaml", "Only structured pruning", "Only structured (row) pruning")
    result = repo.run("release", ok=False)
    assert result.exit_code == 1
    assert "the lock is not up to date" in result.output and "commit cards/ankibuild.lock" in result.output
    assert not (repo.root / "dist" / "release" / "fixture-1.0.0.apkg").exists()


def test_new_version_in_the_deck_description_updates_no_note(repo: Project, tmp_path: Path) -> None:
    learner = Learner(tmp_path / "learner" / "collection.anki2")
    try:
        repo.run("release")
        learner.import_apkg(repo.root / "dist" / "release" / "fixture-1.0.0.apkg")
        learner.review_all(DECK)
        before = learner.card_states()
        deck = learner.col.decks.by_name(DECK)
        assert "Version 1.0.0 · 2026-11-01 · +4 cards, 0 updated" in deck["desc"]
        git(repo.root, "commit", "-q", "--allow-empty", "-m", "nothing changed")
        git(repo.root, "tag", "v1.0.1")
        repo.run("release")
        log = learner.import_apkg(repo.root / "dist" / "release" / "fixture-1.0.1.apkg")
        assert (log.new, log.updated, log.conflicting) == (0, 0, 0)
        assert learner.card_states() == before
        assert "Version 1.0.1 · 2026-11-01 · +0 cards, 0 updated" in learner.col.decks.by_name(DECK)["desc"]
    finally:
        learner.close()


def test_a_topic_package_then_the_full_deck_makes_no_duplicates(repo: Project, tmp_path: Path) -> None:
    repo.run("release")
    learner = Learner(tmp_path / "learner" / "collection.anki2")
    try:
        folder = repo.root / "dist" / "release"
        log = learner.import_apkg(folder / "fixture-compression-1.0.0.apkg")
        assert (log.new, log.conflicting) == (2, 0)
        learner.review_all(DECK)
        before = learner.card_states()
        log = learner.import_apkg(folder / "fixture-1.0.0.apkg")
        assert (log.new, log.updated, log.conflicting) == (2, 0, 0)
        assert learner.note_count() == 4 and learner.note_id(guid("int8-scale"))
        after = learner.card_states()
        assert {cid: after[cid] for cid in before} == before
    finally:
        learner.close()


@pytest.mark.parametrize("broken", [False, True])
def test_the_ci_workflow_is_valid_for_github_actions(tmp_path: Path, broken: bool) -> None:
    workflow = ROOT / ".github" / "workflows" / "ci.yml"
    if broken:  # the linter must be able to fail: a job without runs-on
        text = workflow.read_text(encoding="utf-8").replace("    runs-on: ubuntu-latest\n", "", 1)
        workflow = tmp_path / "ci.yml"
        workflow.write_text(text, encoding="utf-8")
    linter = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    done = subprocess.run(
        [linter, "--builtin-schema", "vendor.github-workflows", str(workflow)], capture_output=True, text=True
    )
    assert (done.returncode != 0) == broken, done.stdout + done.stderr
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "run: .ci/run" in text and "make release" in text
