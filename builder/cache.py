"""The render cache: a card whose source and renderer did not change is not rendered again.

One SQLite file in the user's cache folder (never in the repo). Keys hash everything the HTML
depends on (the card's text, its media names, the renderer's fingerprint), so a stale entry can
never match. Values carry a checksum: a damaged entry is ignored and rendered again, never
shipped. A damaged or locked database disables the cache for that build instead of failing it.
The file is bounded: past `max_entries` the least recently used entries are dropped.

The same file keeps the cards of each card file that parsed cleanly, keyed by its text and the
loader's fingerprint, so an edit re-parses one file rather than all of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 200_000
_CHUNK = 500  # SQLite's variable limit is 999 on old builds


def default_cache_dir() -> Path:
    """ANKIBUILD_CACHE_DIR, else $XDG_CACHE_HOME/ankibuild, else ~/.cache/ankibuild."""
    if os.environ.get("ANKIBUILD_CACHE_DIR"):
        return Path(os.environ["ANKIBUILD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ankibuild"


def _checksum(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


class RenderCache:
    def __init__(self, folder: Path | None, max_entries: int = DEFAULT_MAX_ENTRIES):
        self.max_entries = max_entries
        self.hits = self.misses = self.corrupt = 0
        self._db: sqlite3.Connection | None = None
        self._generation = 0
        if folder is None:
            return
        path = folder / "render-cache.sqlite3"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = self._open(path)
        except (OSError, sqlite3.DatabaseError) as exc:
            log.warning("render cache at %s is unusable (%s); moving it aside and starting afresh", path, exc)
            try:
                path.replace(path.with_suffix(".corrupt"))
                self._db = self._open(path)
            except (OSError, sqlite3.DatabaseError) as again:
                log.warning("render cache disabled for this build (%s)", again)
                self._db = None

    def _open(self, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=5)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT, sum TEXT, used INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS builds (out TEXT PRIMARY KEY, inputs TEXT, output TEXT, summary TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS parsed (key TEXT PRIMARY KEY, value TEXT, sum TEXT, used INTEGER)")
        row = db.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()
        self._generation = (row[0] if row else 0) + 1  # a build counter, not a clock: LRU order
        db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (self._generation,))
        db.commit()
        return db

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _disable(self, exc: Exception) -> None:
        log.warning("render cache disabled for this build (%s)", exc)
        self._db = None

    def _get(self, table: str, keys: Sequence[str]) -> dict[str, str]:
        """Values among `keys` whose checksum holds (marked as used by this build); damaged ones count."""
        assert self._db is not None
        found: dict[str, str] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, value, total in self._db.execute(
                f"SELECT key, value, sum FROM {table} WHERE key IN ({marks})", chunk
            ):
                if isinstance(value, str) and total == _checksum(value):
                    found[key] = value
                else:
                    self.corrupt += 1
        hits = list(found)
        for start in range(0, len(hits), _CHUNK):
            chunk = hits[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            self._db.execute(f"UPDATE {table} SET used = ? WHERE key IN ({marks})", [self._generation, *chunk])
        self._db.commit()
        return found

    def _put(self, table: str, values: Mapping[str, str], limit: int) -> None:
        """Store `values`, then drop the least recently used rows past `limit`."""
        assert self._db is not None
        rows = [(key, value, _checksum(value), self._generation) for key, value in values.items()]
        self._db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?)", rows)
        (count,) = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()
        if count > limit:
            self._db.execute(
                f"DELETE FROM {table} WHERE key IN (SELECT key FROM {table} ORDER BY used LIMIT ?)", (count - limit,)
            )
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The valid cached rendered fields among `keys`; anything damaged counts as a miss."""
        found: dict[str, tuple[str, ...]] = {}
        if self._db is not None:
            try:
                for key, value in self._get("entries", keys).items():
                    fields = self._decode(value)
                    if fields is None:
                        self.corrupt += 1
                    else:
                        found[key] = fields
            except sqlite3.DatabaseError as exc:
                self._disable(exc)
                found = {}
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    @staticmethod
    def _decode(value: str) -> tuple[str, ...] | None:
        try:
            fields = json.loads(value)
        except ValueError:
            return None
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            return None
        return tuple(fields)

    def put_many(self, items: Mapping[str, Sequence[str]] | Iterable[tuple[str, Sequence[str]]]) -> None:
        if self._db is None:
            return
        pairs = items.items() if isinstance(items, Mapping) else items
        values = {key: json.dumps(list(fields), ensure_ascii=False) for key, fields in pairs}
        try:
            self._put("entries", values, self.max_entries)
        except sqlite3.DatabaseError as exc:
            self._disable(exc)

    def get_parsed(self, keys: Sequence[str]) -> dict[str, str]:
        """Cached parses of card files (JSON text) among `keys`; a damaged one counts as absent."""
        if self._db is None or not keys:
            return {}
        try:
            return self._get("parsed", keys)
        except sqlite3.DatabaseError as exc:
            self._disable(exc)
            return {}

    def put_parsed(self, items: Mapping[str, str]) -> None:
        if self._db is None or not items:
            return
        try:
            # Card files are few next to cards: a twentieth of the bound keeps many projects' worth.
            self._put("parsed", dict(items), max(1, self.max_entries // 20))
        except sqlite3.DatabaseError as exc:
            self._disable(exc)

    def last_build(self, out: str) -> tuple[str, str, str] | None:
        """(inputs digest, output sha256, summary JSON) recorded by the last build of `out`."""
        if self._db is None:
            return None
        try:
            return self._db.execute("SELECT inputs, output, summary FROM builds WHERE out = ?", (out,)).fetchone()
        except sqlite3.DatabaseError as exc:
            self._disable(exc)
            return None

    def record_build(self, out: str, inputs: str, output: str, summary: str) -> None:
        if self._db is None:
            return
        try:
            self._db.execute("INSERT OR REPLACE INTO builds VALUES (?, ?, ?, ?)", (out, inputs, output, summary))
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            self._disable(exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
