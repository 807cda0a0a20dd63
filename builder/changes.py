"""`ankibuild changes`: what a release changed for learners, from the cards at a git ref and now.

The cards and the retired list are read at the ref with `git show` and parsed by the same loader
as a build; the lock at the ref says which of those cards had been built (released) by then.
Nothing is written.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .cards import Card, load_collection, parse_card_file
from .config import Config
from .errors import AnkibuildError, Finding
from .lock import parse_lock

#: What a learner sees change on a card, in the order the release notes name them.
LEARNER_FIELDS = ("question", "answer", "text", "extra", "tags", "refs", "reverse")


@dataclass(frozen=True)
class Changed:
    card: Card
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ChangeSet:
    since: str
    added: list[Card] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    #: id → reason (from the retired list; "" when a card vanished without being retired)
    retired: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the deck description: '+12 cards, 30 updated, 1 retired'."""
        parts = [f"+{len(self.added)} cards", f"{len(self.changed)} updated"]
        if self.retired:
            parts.append(f"{len(self.retired)} retired")
        return ", ".join(parts)


def _git(config: Config, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=config.root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise AnkibuildError("git is not installed (ankibuild changes reads the cards at a git ref)") from None
    if done.returncode != 0:
        raise AnkibuildError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed")
    return done.stdout


def git_root(config: Config) -> Path:
    try:
        top = _git(config, "rev-parse", "--show-toplevel").strip()
    except AnkibuildError:
        raise AnkibuildError(
            f"{config.root} is not in a git repository (changes compares the cards with a git ref; run `git init`)"
        ) from None
    return Path(top)


def latest_release_tag(config: Config) -> str:
    """The newest tag named like a release (v1.2.3 / v2026.12.0) reachable from HEAD."""
    git_root(config)
    try:
        return _git(config, "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*").strip()
    except AnkibuildError:
        raise AnkibuildError("no release tag yet (tag a release as v<version>, or pass --since REF)") from None


def _resolve(config: Config, ref: str) -> str:
    git_root(config)
    try:
        return _git(config, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except AnkibuildError:
        raise AnkibuildError(f"unknown git ref '{ref}' (name a tag, branch or commit)") from None


def _at(config: Config, commit: str, rel: str) -> str | None:
    """File `rel` (project-relative) as it was at `commit`, or None if it did not exist."""
    prefix = _git(config, "rev-parse", "--show-prefix").strip()
    try:
        return _git(config, "show", f"{commit}:{prefix}{rel}")
    except AnkibuildError:
        return None


def cards_at(config: Config, commit: str) -> tuple[dict[str, Card], dict[str, str], set[str] | None]:
    """(cards by id, retired id → reason, ids in the lock or None without one) at `commit`."""
    prefix = _git(config, "rev-parse", "--show-prefix").strip()
    listing = _git(config, "ls-tree", "-r", "--name-only", commit, "--", f"{prefix}{config.cards_dir}")
    special = {config.tags_file, config.retired_file, config.lock_file}
    findings: list[Finding] = []
    cards: dict[str, Card] = {}
    for path in listing.splitlines():
        rel = path[len(prefix) :]
        if PurePosixPath(rel).suffix not in (".yaml", ".yml") or rel in special:
            continue
        text = _at(config, commit, rel) or ""
        for card in parse_card_file(text, rel, findings):
            cards.setdefault(card.id, card)
    retired_text = _at(config, commit, config.retired_file)
    retired = _retired(retired_text)
    lock_text = _at(config, commit, config.lock_file)
    built = parse_lock(lock_text, config.lock_file).card_ids if lock_text else None
    return cards, retired, built


def _retired(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return {str(k): str(v or "") for k, v in data.items()} if isinstance(data, dict) else {}


def _differs(old: Card, new: Card) -> tuple[str, ...]:
    return tuple(f for f in LEARNER_FIELDS if getattr(old, f) != getattr(new, f))


def _title(card: Card) -> str:
    """What the learner is asked: the question, or a cloze card's text."""
    return card.question or card.text


def changes(config: Config, since: str | None = None) -> ChangeSet:
    """Cards added, changed and retired between `since` (default: the latest release tag) and now."""
    ref = since or latest_release_tag(config)
    commit = _resolve(config, ref)
    old, _old_retired, built = cards_at(config, commit)
    if built is not None:  # only what had been built by then was in learners' hands
        old = {cid: card for cid, card in old.items() if cid in built}
    col = load_collection(config)
    broken = [f for f in col.findings if f.severity == "error"]
    if broken:
        raise AnkibuildError(f"{broken[0].format()} (fix the cards first: `ankibuild check`)")
    now = {card.id: card for card in col.cards}
    added = [card for cid, card in now.items() if cid not in old]
    changed = [Changed(now[cid], d) for cid in now if cid in old and (d := _differs(old[cid], now[cid]))]
    retired = {cid: (col.retired.get(cid, (0, ""))[1]) for cid in old if cid not in now}
    return ChangeSet(since=ref, added=added, changed=changed, retired=retired)


def _plain(markdown: str, limit: int = 120) -> str:
    """A question as one short line: first line, Markdown emphasis and code ticks dropped."""
    line = next((part.strip() for part in markdown.splitlines() if part.strip()), "")
    line = re.sub(r"[*_`]", "", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render_markdown(cs: ChangeSet, title: str) -> str:
    lines = [f"## {title}", "", f"Since {cs.since}: {cs.summary()}.", ""]
    if cs.added:
        lines += [f"### Added ({len(cs.added)})", ""]
        lines += [f"- {_plain(_title(c))} (`{c.id}`, {', '.join(c.tags)})" for c in cs.added]
        lines.append("")
    if cs.changed:
        lines += [f"### Updated ({len(cs.changed)})", ""]
        lines += [f"- {_plain(_title(ch.card))} (`{ch.card.id}`): {', '.join(ch.fields)}" for ch in cs.changed]
        lines.append("")
    if cs.retired:
        lines += [f"### Retired ({len(cs.retired)})", ""]
        lines += [
            f"- `{cid}`" + (f": {why}" if why else " (not listed in the retired file)")
            for cid, why in cs.retired.items()
        ]
        lines.append("")
    if not (cs.added or cs.changed or cs.retired):
        lines += ["No card changed.", ""]
    return "\n".join(lines)


def render_json(cs: ChangeSet) -> str:
    data: Mapping[str, object] = {
        "since": cs.since,
        "summary": cs.summary(),
        "added": [{"id": c.id, "question": _title(c), "tags": list(c.tags)} for c in cs.added],
        "changed": [{"id": ch.card.id, "question": _title(ch.card), "fields": list(ch.fields)} for ch in cs.changed],
        "retired": [{"id": cid, "reason": why} for cid, why in cs.retired.items()],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
