"""The only module that writes files: the reproducible .apkg and the lock, both atomically.

genanki writes the collection's tables; we then set each note's own `mod` (genanki gives every
note the same one) and zip it ourselves with fixed entry times, so that the same sources and
lock give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import genanki

from .notetype import NoteType

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def note_guid(namespace: str, card_id: str) -> str:
    """The note's GUID: a function of the card id (and the project's fixed namespace) only."""
    number = int.from_bytes(hashlib.sha256(f"{namespace}\x1f{card_id}".encode()).digest()[:8], "big")
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits)) or "0"


def media_name(path: Path, data: bytes) -> str:
    """The file's name inside Anki: its stem plus a content hash, so a changed image is a new file."""
    return f"{path.stem}-{hashlib.sha1(data).hexdigest()[:12]}{path.suffix.lower()}"


@dataclass(frozen=True)
class PackagedNote:
    guid: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    mod: int


@dataclass(frozen=True)
class Deck:
    id: int
    name: str
    description: str


def _genanki_model(nt: NoteType) -> genanki.Model:
    return genanki.Model(
        nt.id,
        nt.name,
        # genanki passes extra keys through: the fixed `id` is how Anki matches fields/templates.
        fields=[{"name": name, "id": fid, "font": nt.field_font} for name, fid in nt.fields],
        templates=[{"name": nt.template_name, "id": nt.template_id, "qfmt": nt.front, "afmt": nt.back}],
        css=nt.css,
    )


def collection_bytes(notes: Sequence[PackagedNote], nt: NoteType, nt_mod: int, deck: Deck) -> bytes:
    """The package's SQLite collection, deterministic for the same inputs."""
    model = _genanki_model(nt)
    gdeck = genanki.Deck(deck.id, deck.name, deck.description)
    for due, note in enumerate(notes):
        gdeck.add_note(
            genanki.Note(model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid, due=due)
        )
    # No wall clock: ids and card mods derive from the newest mod in the package.
    stamp = max([nt_mod, *(n.mod for n in notes)])
    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        genanki.Package(gdeck).write_to_db(cursor, stamp, itertools.count(stamp * 1000))
        # By primary key: `notes.guid` has no index, and a WHERE on it is quadratic at 10k notes.
        ids = dict(cursor.execute("SELECT guid, id FROM notes"))
        cursor.executemany("UPDATE notes SET mod = ? WHERE id = ?", [(n.mod, ids[n.guid]) for n in notes])
        (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
        models = json.loads(models_json)
        models[str(nt.id)]["mod"] = nt_mod
        cursor.execute("UPDATE col SET models = ?", (json.dumps(models, sort_keys=True),))
        conn.commit()
        cursor.execute("VACUUM")
        return conn.serialize()
    finally:
        conn.close()


def apkg_bytes(collection: bytes, media: Sequence[tuple[str, bytes]]) -> bytes:
    """Zip the collection and media with fixed entry times and order."""
    buffer = io.BytesIO()
    media = sorted(media)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)

        add("collection.anki2", collection)
        add("media", json.dumps({str(i): name for i, (name, _data) in enumerate(media)}).encode())
        for i, (_name, data) in enumerate(media):
            add(str(i), data)
    return buffer.getvalue()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
