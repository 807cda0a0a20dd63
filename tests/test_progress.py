"""The progress bar: shown on a long build in a terminal, never in a pipe or in CI."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from builder.cli import PROGRESS_MIN
from tests.conftest import Project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")


@pytest.fixture
def big(project: Project) -> Project:
    cards = "".join(
        f"- id: generated-{i:04d}\n  question: Question {i}?\n  answer: Answer {i}.\n  tags: [fundamentals]\n"
        for i in range(PROGRESS_MIN + 20)
    )
    project.write("cards/generated.yaml", cards)
    return project


def env(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"CI", "GITHUB_ACTIONS"}}
    return {**environ, **extra}


def run_in_terminal(root: Path, environ: dict[str, str]) -> str:
    """Run a build with stdout and stderr on a pseudo-terminal; return what the terminal showed."""
    command = [sys.executable, "-m", "builder.cli", "-C", str(root), "--jobs", "1"]
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=environ) as proc:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert proc.wait() == 0, shown.decode(errors="replace")
    os.close(leader)
    return shown.decode(errors="replace")


def test_terminal_shows_progress_on_a_long_build(big: Project) -> None:
    shown = run_in_terminal(big.root, env())
    assert "Rendering" in shown and "100%" in shown, shown
    assert "Built" in shown


def test_ci_terminal_stays_quiet(big: Project) -> None:
    shown = run_in_terminal(big.root, env(CI="true"))
    assert "Rendering" not in shown and "Built" in shown


def test_pipe_stays_quiet(big: Project) -> None:
    command = [sys.executable, "-m", "builder.cli", "-C", str(big.root), "--jobs", "1"]
    done = subprocess.run(command, capture_output=True, text=True, env=env(), check=True)
    assert "Rendering" not in done.stderr + done.stdout and "Built" in done.stdout + done.stderr


def test_short_build_in_a_terminal_stays_quiet(project: Project) -> None:
    shown = run_in_terminal(project.root, env())
    assert "Rendering" not in shown and "Built" in shown
