from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builder import notetype
from builder.cli import main
from builder.config import load_config
from builder.package import note_guid

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden/ from the current output.")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the user's render cache."""
    monkeypatch.setenv("ANKIBUILD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--update-golden")


@dataclass
class Project:
    root: Path

    def run(self, *args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(main, ["-C", str(self.root), *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def build(self, *args: str) -> Path:
        self.run(*args)
        if "--out" in args:
            return Path(args[args.index("--out") + 1])
        return self.root / "dist" / "fixture.apkg"

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` and its bytes: compare before and after to prove nothing was written."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def copy_fixture(name: str, dest: Path) -> Project:
    shutil.copytree(FIXTURES / name, dest)
    return Project(dest)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return copy_fixture("basic", tmp_path / "proj")


@contextmanager
def changed_notetype(monkeypatch: pytest.MonkeyPatch, part: str, marker: str) -> Iterator[None]:
    """Change the note type's CSS, back template or fields' font (as a release would), for one build."""
    if part == "css":
        monkeypatch.setattr(notetype, "BASE_CSS", notetype.BASE_CSS + f"\n.{marker} {{ color: teal; }}\n")
    elif part == "font":
        monkeypatch.setattr(notetype, "FIELD_FONT", marker)
    else:
        monkeypatch.setattr(notetype, "BACK", notetype.BACK + f'\n<div class="{marker}"></div>')
    notetype.note_type.cache_clear()
    try:
        yield
    finally:
        notetype.note_type.cache_clear()


def guid(card_id: str, *variant: str, fixture: str = "basic") -> str:
    """The GUID a card's note (or its `reverse` note) has in a fixture deck."""
    return note_guid(load_config(FIXTURES / fixture).guid_namespace, card_id, *variant)
