"""The lock file: per note, the hash of the note as last packaged, the `mod` it got, its note type.

Anki updates a note on re-import only when the incoming `mod` is strictly newer, and an update
replaces the learner's tags. So an unchanged note must keep exactly its previous `mod`, and a
changed one needs a newer one. The lock is committed next to the cards so every build (on any
machine) agrees. Entries are never dropped: a vanished id is how a rename is noticed.

Keys: a card id (its note), `<id>@reverse` (the reverse note of a `reverse: true` card) and
`@notetype` / `@notetype:<kind>` (note types); '@' never occurs in an id. A note of a type other
than basic has its type as a fourth column: Anki cannot change a note's type on import, so
`check` compares it with the card's.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from .errors import AnkibuildError

HEADER = """\
# ankibuild lock: written by every build, committed with the cards, never edited by hand.
# One line per note ever built: id, hash of the note as packaged, note mod (Unix seconds)[, note type].
# After a merge conflict here, keep for each id the line with the larger mod.
"""
NOTETYPE_KEY = "@notetype"
REVERSE_SUFFIX = "@reverse"
BASIC = "basic"


def notetype_key(kind: str) -> str:
    """The lock key of a note type. The basic one keeps the key it had when it was the only one."""
    return NOTETYPE_KEY if kind == BASIC else f"{NOTETYPE_KEY}:{kind}"


def reverse_key(card_id: str) -> str:
    return card_id + REVERSE_SUFFIX


@dataclass(frozen=True)
class LockEntry:
    hash: str
    mod: int
    kind: str = BASIC  # the note's note type (cards and reverse notes only)


@dataclass
class Lock:
    entries: dict[str, LockEntry] = field(default_factory=dict)
    #: line of each entry in the file it was read from (for `check` findings)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def card_ids(self) -> set[str]:
        return {key for key in self.entries if "@" not in key}

    @property
    def reverse_ids(self) -> set[str]:
        """Ids of cards whose reverse note was ever built."""
        return {key.removesuffix(REVERSE_SUFFIX) for key in self.entries if key.endswith(REVERSE_SUFFIX)}

    def stamp(self, key: str, content_hash: str, now: int, kind: str = BASIC) -> tuple[int, str]:
        """The mod for `key` with this content, and whether it is 'added', 'changed' or 'unchanged'.

        Records the result in the lock.
        """
        old = self.entries.get(key)
        if old is not None and old.hash == content_hash and old.kind == kind:
            return old.mod, "unchanged"
        mod = now if old is None else max(now, old.mod + 1)
        self.entries[key] = LockEntry(content_hash, mod, kind)
        return mod, "added" if old is None else "changed"


def build_time() -> int:
    """Seconds for new mods: SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return int(epoch)
        except ValueError:
            raise AnkibuildError(f"SOURCE_DATE_EPOCH must be whole seconds, got {epoch!r}") from None
    return int(time.time())


def parse_lock(text: str, where: str) -> Lock:
    entries: dict[str, LockEntry] = {}
    lines: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) not in (3, 4) or not parts[2].isdigit():
            hint = (
                "resolve the merge conflict: keep for each id the line with the larger mod"
                if line.startswith(("<<<<<<<", "=======", ">>>>>>>"))
                else "restore it from git; the lock is written by ankibuild"
            )
            raise AnkibuildError(f"{where}:{number}: malformed lock line {raw!r} ({hint})")
        key, digest, mod, *kind = parts
        if key in entries:
            raise AnkibuildError(f"{where}:{number}: '{key}' appears twice (keep the line with the larger mod)")
        entries[key] = LockEntry(digest, int(mod), kind[0] if kind else BASIC)
        lines[key] = number
    return Lock(entries, lines)


def format_lock(lock: Lock) -> str:
    keys = sorted(lock.entries, key=lambda k: (not k.startswith(NOTETYPE_KEY), k))
    body = "".join(_line(k, lock.entries[k]) for k in keys)
    return HEADER + body


def _line(key: str, entry: LockEntry) -> str:
    # Basic notes keep the three columns they always had, so existing lines never change.
    kind = "" if entry.kind == BASIC else f" {entry.kind}"
    return f"{key} {entry.hash} {entry.mod}{kind}\n"
