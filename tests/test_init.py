"""`ankibuild init`: a new project with its own identity, that checks, builds and imports; never over an old one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from builder.cli import main
from builder.config import load_config
from builder.lock import Lock, format_lock
from tests.ankiclient import Learner
from tests.conftest import snapshot

ROOT = Path(__file__).resolve().parent.parent


def init(folder: Path, *args: str):
    return CliRunner().invoke(main, ["init", str(folder), *args], catch_exceptions=False)


def test_init_writes_a_project_that_checks_builds_and_imports(tmp_path: Path) -> None:
    result = init(tmp_path / "my-deck", "--name", "My Deck")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "my-deck"
    assert sorted(snapshot(folder)) == [
        ".gitignore",
        "README.md",
        "cards/ankibuild.lock",
        "cards/example.yaml",
        "cards/tags.yaml",
        "pyproject.toml",
    ]
    assert (folder / ".gitignore").read_text() == "dist/\n"
    assert (folder / "cards/ankibuild.lock").read_text() == format_lock(Lock())  # the lock module's own format
    toml = (folder / "pyproject.toml").read_text()
    assert "NEVER CHANGE THESE VALUES" in toml
    readme = (folder / "README.md").read_text()
    assert all(word in readme for word in ("ankibuild check", "ankibuild preview", "ankibuild  "))
    config = load_config(folder)
    assert (config.deck_name, config.package_name) == ("My Deck", "my-deck")

    run = CliRunner().invoke(main, ["-C", str(folder), "check", "--strict"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(main, ["-C", str(folder)], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    learner = Learner(tmp_path / "anki" / "collection.anki2")
    try:
        log = learner.import_apkg(folder / "dist" / "my-deck.apkg")
        assert (log.new, log.conflicting) == (1, 0)
        [nt] = learner.notetypes()
        assert nt["id"] == config.notetypes["basic"].id
        assert learner.col.decks.id_for_name("My Deck")
    finally:
        learner.close()


def test_every_project_gets_its_own_identity(tmp_path: Path) -> None:
    init(tmp_path / "a")
    init(tmp_path / "b")
    a, b = load_config(tmp_path / "a"), load_config(tmp_path / "b")
    assert a.guid_namespace != b.guid_namespace and a.deck_id != b.deck_id
    ids_a = {i for nt in a.notetypes.values() for i in (nt.id, *(x for _n, x in nt.fields + nt.templates))}
    ids_b = {i for nt in b.notetypes.values() for i in (nt.id, *(x for _n, x in nt.fields + nt.templates))}
    assert len(ids_a) == 2 + 9 + 2 and not ids_a & ids_b
    assert all(10**12 <= i < 2**53 for i in ids_a)


@pytest.mark.parametrize("existing", ["pyproject.toml", "cards/tags.yaml", "README.md", "cards/other.yaml"])
def test_init_refuses_in_an_existing_project_and_changes_nothing(tmp_path: Path, existing: str) -> None:
    folder = tmp_path / "old"
    (folder / existing).parent.mkdir(parents=True, exist_ok=True)
    (folder / existing).write_text("mine\n")
    before = snapshot(folder)
    result = init(folder)
    assert result.exit_code == 1
    assert "init only starts new projects and changed nothing" in result.output
    assert "Traceback" not in result.output
    assert snapshot(folder) == before
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == sorted(
        {existing, *(["cards"] if "/" in existing else [])}
    )


def test_init_inside_this_repository_refuses_its_root() -> None:
    result = init(ROOT)
    assert result.exit_code == 1 and "pyproject.toml" in result.output


# --- README: "Build your own deck with ankibuild", run as written, outside this repository ---------


def readme_steps() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Build your own deck with ankibuild", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)[1]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_own_deck_steps_work_in_a_clean_folder(tmp_path: Path) -> None:
    steps = readme_steps()
    install, rest = steps[0], steps[1:]
    assert install.startswith("python3 -m venv") and "pip install" in install  # the install step, run by hand once
    assert rest[0].startswith("ankibuild init")
    bin_dir = Path(sys.executable).parent  # this checkout's own install of the tool stands in for it
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CI": "true"}
    env.pop("ANKIBUILD_MATHJAX", None)
    workdir = tmp_path / "newuser"
    workdir.mkdir()
    assert ROOT not in workdir.resolve().parents
    script = "set -e\n" + "\n".join(rest) + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [apkg] = list(workdir.rglob("dist/*.apkg"))
    learner = Learner(tmp_path / "anki" / "collection.anki2")
    try:
        log = learner.import_apkg(apkg)
        assert log.new >= 2 and log.conflicting == 0  # the example card and the one `new` added
    finally:
        learner.close()
