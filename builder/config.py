"""Project settings from `[tool.ankibuild]` in pyproject.toml, typed.

Identity (what Anki matches a learner's notes, note types and deck by) has no default: every deck
pins its own values, written once by `ankibuild init`. A shared default would make two decks built
with ankibuild overwrite each other's notes in a learner's collection. Everything else has a
default that works.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError
from .layout import LAYOUTS, Layout

#: Ids stay below 2**53 so that every client (AnkiDroid's and AnkiWeb's JavaScript too) reads them exactly.
MAX_ID = 2**53 - 1
_SLUGGISH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class NoteTypeIds:
    """One note type's identity from the config: its id and name, and the ids of the tool's fields and templates."""

    kind: str
    id: int
    name: str
    fields: tuple[tuple[str, int], ...]  # in the tool's field order
    templates: tuple[tuple[str, int], ...]


#: Identity keys of `[tool.ankibuild]`, with their type. Required; never defaulted.
IDENTITY_KEYS = {"deck-name": str, "deck-id": int, "guid-namespace": str}


@dataclass(frozen=True)
class Config:
    root: Path
    #: Name of the Anki deck new cards go to. Anki matches decks by name: never change it.
    deck_name: str
    #: Fixed deck id written into the package (Anki ignores it on import, but keep it stable).
    deck_id: int
    #: Part of every note's GUID. Never change it: every learner's notes would be duplicated.
    guid_namespace: str
    #: kind ('basic', 'cloze') → its note type's ids
    notetypes: Mapping[str, NoteTypeIds] = field(default_factory=dict)
    #: Short description shown on the deck's overview screen.
    deck_description: str = ""
    #: Output file name without extension, inside `out_dir`.
    package_name: str = "deck"
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
    #: A CSS file (relative to the root) appended to every note type's CSS.
    css_file: str = ""
    #: pygments styles for code in light and night mode.
    code_style_light: str = "default"
    code_style_dark: str = "github-dark"
    #: When set, every card's back links here ("{id}" becomes the card id), e.g. an issue form.
    report_url: str = ""
    report_label: str = "Report a problem"

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

    def extra_css(self) -> str:
        """The deck's own CSS (`css-file`), or ''."""
        if not self.css_file:
            return ""
        path = self.path(self.css_file)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"pyproject.toml: css-file '{self.css_file}' cannot be read ({exc})") from None


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has `[tool.ankibuild]`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.ankibuild" in pyproject.read_text(encoding="utf-8"):
            return folder
    return start


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id_problem(key: str, value: object) -> str | None:
    if not _is_int(value):
        return f"{key} must be a whole number, got {type(value).__name__}"
    if not 1 <= value <= MAX_ID:
        return f"{key} must be between 1 and {MAX_ID}, got {value}"
    return None


def _id_table(
    where: str, value: object, names: tuple[str, ...], what: str, missing: list[str], problems: list[str]
) -> tuple[tuple[str, int], ...]:
    """A `{Name = id, …}` table with exactly the tool's `names`, in the tool's order."""
    if value is None:
        missing.extend(f"{where}.{name}" for name in names)
        return ()
    if not isinstance(value, dict):
        problems.append(f"{where} must be a table of {what} name = id")
        return ()
    for name in value:
        if name not in names:
            problems.append(f"{where} has unknown {what} '{name}' (the tool's {what}s: {', '.join(names)})")
    out = []
    for name in names:
        if name not in value:
            missing.append(f"{where}.{name}")
            continue
        problem = _id_problem(f"{where}.{name}", value[name])
        if problem:
            problems.append(problem)
        else:
            out.append((name, value[name]))
    return tuple(out)


def _notetypes(table: object, missing: list[str], problems: list[str]) -> dict[str, NoteTypeIds]:
    if table is None:
        table = {}
    if not isinstance(table, dict):
        problems.append("notetypes must be a table with one table per note type")
        return {}
    for kind in table:
        if kind not in LAYOUTS:
            problems.append(f"notetypes has unknown note type '{kind}' (the tool's note types: {', '.join(LAYOUTS)})")
    out: dict[str, NoteTypeIds] = {}
    for kind, layout in LAYOUTS.items():
        where = f"notetypes.{kind}"
        spec = table.get(kind)
        if spec is None:
            missing.append(f"[tool.ankibuild.{where}] ({_describe(layout)})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where} must be a table")
            continue
        for key in spec:
            if key not in ("id", "name", "fields", "templates"):
                problems.append(f"{where} has unknown key '{key}' (known keys: id, name, fields, templates)")
        before = len(missing) + len(problems)
        if "id" not in spec:
            missing.append(f"{where}.id")
        elif problem := _id_problem(f"{where}.id", spec["id"]):
            problems.append(problem)
        if "name" not in spec:
            missing.append(f"{where}.name")
        elif not isinstance(spec["name"], str) or not spec["name"].strip():
            problems.append(f"{where}.name must be a non-empty string")
        field_ids = _id_table(f"{where}.fields", spec.get("fields"), layout.fields, "field", missing, problems)
        template_ids = _id_table(
            f"{where}.templates", spec.get("templates"), layout.templates, "template", missing, problems
        )
        for label, ids in (("field", field_ids), ("template", template_ids)):
            if len({i for _n, i in ids}) != len(ids):
                problems.append(f"{where}: two {label}s share an id (each needs its own)")
        if len(missing) + len(problems) == before:
            out[kind] = NoteTypeIds(kind, spec["id"], spec["name"], field_ids, template_ids)
    ids = [nt.id for nt in out.values()]
    if len(set(ids)) != len(ids):
        problems.append("notetypes: two note types share an id (Anki matches note types by id: each needs its own)")
    return out


def _describe(layout: Layout) -> str:
    return f"id, name, fields {' / '.join(layout.fields)}, templates {' / '.join(layout.templates)}"


def _check_setting(key: str, name: str, value: object, default: object, problems: list[str]) -> object:
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key} must be a list of strings")
            return default
        return tuple(value)
    expected = type(default)
    if not isinstance(value, expected) or isinstance(value, bool):
        problems.append(f"{key} must be {expected.__name__}, got {type(value).__name__}")
        return default
    return value


def _is_style(name: str) -> bool:
    from pygments.styles import get_style_by_name
    from pygments.util import ClassNotFound

    try:
        get_style_by_name(name)
    except ClassNotFound:
        return False
    return True


def _check_values(settings: dict, problems: list[str]) -> None:
    for key in ("code_style_light", "code_style_dark"):
        if key in settings and not _is_style(settings[key]):
            from pygments.styles import get_all_styles  # imports every style: only for the message

            from .cards import did_you_mean

            styles = sorted(get_all_styles())
            hint = did_you_mean(settings[key], styles) or f"one of {', '.join(styles)}"
            problems.append(f"{key.replace('_', '-')} '{settings[key]}' is not a pygments style ({hint})")
    url = settings.get("report_url", "")
    if url and (not re.match(r"https?://", url) or "{id}" not in url or "{{" in url or '"' in url):
        problems.append(
            "report-url must be an http(s) URL with {id} where the card id goes, e.g. …/issues/new?title={id}"
        )
    if "package_name" in settings and not _SLUGGISH.fullmatch(settings["package_name"]):
        problems.append("package-name must be a file name without '/' or spaces, e.g. my-deck")
    for key in ("guid_namespace", "deck_name"):
        value = settings.get(key)
        if isinstance(value, str) and not value.strip():
            problems.append(f"{key.replace('_', '-')} must not be empty")


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
    if not pyproject.is_file() or "ankibuild" not in data.get("tool", {}):
        raise ConfigError(
            f"no ankibuild project at or above {root} (no pyproject.toml with [tool.ankibuild]; "
            "start one with `ankibuild init DIR`, or pass -C DIR)"
        )
    known = {f.name: f for f in fields(Config) if f.name not in ("root", "notetypes")}
    settings: dict = {}
    missing: list[str] = []
    problems: list[str] = []
    for key, value in table.items():
        name = key.replace("-", "_")
        if key == "notetypes":
            continue
        if name not in known:
            problems.append(
                f"unknown key '{key}' (known keys: {', '.join(sorted(k.replace('_', '-') for k in known))}, notetypes)"
            )
            continue
        if key in IDENTITY_KEYS:
            expected = IDENTITY_KEYS[key]
            if expected is int:
                problem = _id_problem(key, value)
            else:
                problem = None if isinstance(value, str) else f"{key} must be a string, got {type(value).__name__}"
            if problem:
                problems.append(problem)
            else:
                settings[name] = value
            continue
        settings[name] = _check_setting(key, name, value, known[name].default, problems)
    for key in IDENTITY_KEYS:
        if key not in table:
            missing.append(key)
    notetypes = _notetypes(table.get("notetypes"), missing, problems)
    _check_values(settings, problems)
    if missing:
        problems.insert(
            0,
            f"missing identity keys: {', '.join(missing)} (identity is never defaulted, so that no two decks share "
            "it: for a new deck, run `ankibuild init DIR` and use the values it writes; a deck that was already "
            "published must pin the values its notes were built with, never fresh ones)",
        )
    if problems:
        raise ConfigError("\n".join(f"pyproject.toml: [tool.ankibuild] {p}" for p in problems))
    return Config(root=root, notetypes=notetypes, **settings)
