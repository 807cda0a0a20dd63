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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import genanki

from .cloze import numbers
from .notetype import NoteType

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def note_guid(namespace: str, card_id: str, *variant: str) -> str:
    """The note's GUID: a function of the deck's namespace, the card id and which of its notes
    (`"reverse"` for the reverse note) only. `\x1f` never occurs in a namespace or an id."""
    key = "\x1f".join((namespace, card_id, *variant))
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
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
    kind: str = "basic"  # its note type


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
        templates=[{"name": t.name, "id": t.id, "qfmt": t.front, "afmt": t.back} for t in nt.templates],
        css=nt.css,
        model_type=genanki.Model.CLOZE if nt.cloze else genanki.Model.FRONT_BACK,
    )


def collection_bytes(
    notes: Sequence[PackagedNote], note_types: Mapping[str, tuple[NoteType, int]], deck: Deck
) -> bytes:
    """The package's SQLite collection, deterministic for the same inputs.

    `note_types` maps each kind the notes use to its note type and the `mod` it gets.
    """
    models = {kind: _genanki_model(nt) for kind, (nt, _mod) in note_types.items()}
    gdeck = genanki.Deck(deck.id, deck.name, deck.description)
    for due, note in enumerate(notes):
        gnote = genanki.Note(
            model=models[note.kind], fields=list(note.fields), tags=list(note.tags), guid=note.guid, due=due
        )
        if note_types[note.kind][0].cloze:
            # One card per cloze number, read as Anki reads it (nested clozes too, which genanki's
            # own regex misses); the text field comes first.
            gnote.cards = [genanki.Card(n - 1) for n in numbers(note.fields[0])]
        gdeck.add_note(gnote)
    # No wall clock: ids and card mods derive from the newest mod in the package.
    stamp = max([*(mod for _nt, mod in note_types.values()), *(n.mod for n in notes)])
    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        genanki.Package(gdeck).write_to_db(cursor, stamp, itertools.count(stamp * 1000))
        # By primary key: `notes.guid` has no index, and a WHERE on it is quadratic at 10k notes.
        ids = dict(cursor.execute("SELECT guid, id FROM notes"))
        cursor.executemany("UPDATE notes SET mod = ? WHERE id = ?", [(n.mod, ids[n.guid]) for n in notes])
        (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
        packaged = json.loads(models_json)
        for nt, mod in note_types.values():
            if str(nt.id) in packaged:
                packaged[str(nt.id)]["mod"] = mod
        cursor.execute("UPDATE col SET models = ?", (json.dumps(packaged, sort_keys=True),))
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
