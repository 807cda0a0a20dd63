"""Project settings from `[tool.ankibuild]` in pyproject.toml, typed, with defaults that work."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import ConfigError


@dataclass(frozen=True)
class Config:
    root: Path
    #: Name of the Anki deck new cards go to. Anki matches decks by name: never change it.
    deck_name: str = "LLM Interview 大模型面试"
    #: Fixed deck id written into the package (Anki ignores it on import, but keep it stable).
    deck_id: int = 1_731_574_220
    #: Short description shown on the deck's overview screen.
    deck_description: str = ""
    #: Output file name without extension, inside `out_dir`.
    package_name: str = "llm-interview"
    cards_dir: str = "cards"
    media_dir: str = "media"
    out_dir: str = "dist"
    #: Tag registry, relative to the project root.
    tags_file: str = "cards/tags.yaml"
    #: Lock file with each card's content hash and note mod, committed next to the cards.
    lock_file: str = "cards/ankibuild.lock"
    #: Ids deleted on purpose (id: reason). They may never be reused.
    retired_file: str = "cards/retired.yaml"
    #: Words in a card's text that refer to the material it was written from, which the learner
    #: never sees (`check` flags them; matched case-insensitively, whole words for ASCII ones).
    provenance_words: tuple[str, ...] = ()
    #: Phrases in which a provenance word is meant literally (e.g. "随机种子", "random seed").
    provenance_allow: tuple[str, ...] = ()
    #: `check` warns when a card's `as_of` is older than this many months: re-verify it.
    as_of_max_months: int = 12

    def path(self, rel: str) -> Path:
        return self.root / rel

    @property
    def default_out(self) -> Path:
        return self.path(self.out_dir) / f"{self.package_name}.apkg"

    def rel(self, path: Path) -> str:
        """Path as shown to users: relative to the project root, with forward slashes."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has `[tool.ankibuild]`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.ankibuild]" in pyproject.read_text(encoding="utf-8"):
            return folder
    return start


def load_config(root: Path | None = None) -> Config:
    root = find_root(root or Path.cwd())
    pyproject = root / "pyproject.toml"
    table: dict = {}
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"pyproject.toml: {exc} (fix the TOML syntax)") from None
        table = data.get("tool", {}).get("ankibuild", {})
    known = {f.name: f for f in fields(Config) if f.name != "root"}
    settings = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(
                f"pyproject.toml: [tool.ankibuild] has unknown key '{key}' "
                f"(known keys: {', '.join(sorted(k.replace('_', '-') for k in known))})"
            )
        expected = type(known[name].default)
        if expected is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"pyproject.toml: [tool.ankibuild] {key} must be a list of strings")
            settings[name] = tuple(value)
            continue
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(
                f"pyproject.toml: [tool.ankibuild] {key} must be {expected.__name__}, got {type(value).__name__}"
            )
        settings[name] = value
    return Config(root=root, **settings)
