"""load → validate → render → package. Everything is gathered and checked before anything is written."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .cards import Card, Collection, did_you_mean, load_collection
from .check import image_refs, make_context, media_path, validate
from .config import Config
from .errors import AnkibuildError, ValidationFailed
from .lock import NOTETYPE_KEY, Lock, build_time, format_lock, parse_lock
from .notetype import note_type
from .package import Deck, PackagedNote, apkg_bytes, collection_bytes, media_name, note_guid, write_atomic
from .render import RenderedCard, Renderer, media_key, render_card

log = logging.getLogger(__name__)

# Part of every note's GUID. Never change it: every learner's notes would be duplicated.
GUID_NAMESPACE = "ankibuild"


@dataclass(frozen=True)
class BuildResult:
    out: Path
    built: int
    added: int
    changed: int
    unchanged: int
    media: int
    notetype: str  # 'added' | 'changed' | 'unchanged'


def read_lock(config: Config) -> Lock:
    path = config.path(config.lock_file)
    if not path.is_file():
        return Lock()
    return parse_lock(path.read_text(encoding="utf-8"), config.rel(path))


def load_checked(config: Config) -> Collection:
    """Load and validate; raise with every error found, or return the collection."""
    col = load_collection(config)
    findings = validate(col, make_context(config))
    if any(f.severity == "error" for f in findings):
        raise ValidationFailed([f for f in findings if f.severity == "error"])
    return col


def _has_tag(card: Card, wanted: str) -> bool:
    return any(tag == wanted or tag.startswith(wanted + "::") for tag in card.tags)


def select(
    cards: Sequence[Card], declared: Iterable[str], tags: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Card]:
    """Cards with any of `tags` (or a child tag), minus those with any of `exclude`."""
    declared = set(declared)
    for tag in (*tags, *exclude):
        if tag not in declared:
            hint = did_you_mean(tag, declared)
            raise AnkibuildError(f"unknown tag '{tag}' ({hint or 'see cards/tags.yaml for the declared tags'})")
    chosen = [c for c in cards if not tags or any(_has_tag(c, t) for t in tags)]
    return [c for c in chosen if not any(_has_tag(c, t) for t in exclude)]


def render_cards(cards: Sequence[Card], media: dict[str, str]) -> list[RenderedCard]:
    renderer = Renderer(media)
    return [render_card(card, renderer) for card in cards]


def note_hash(note_fields: Sequence[str], tags: Sequence[str], guid: str, notetype_id: int) -> str:
    import hashlib

    payload = "\x1e".join([guid, str(notetype_id), "\x1f".join(note_fields), " ".join(tags)])
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def build(
    config: Config, tags: Sequence[str] = (), exclude: Sequence[str] = (), out: Path | None = None
) -> BuildResult:
    col = load_checked(config)
    cards = select(col.cards, col.registry.tags, tags, exclude)
    if not cards:
        raise AnkibuildError("no cards match the selected tags (check --tags / --exclude-tags)")
    lock = read_lock(config)

    # Media: only files the selected cards refer to, named by content.
    media: dict[str, str] = {}
    payload: dict[str, bytes] = {}
    for card in cards:
        for text in (card.question, card.answer, card.extra):
            for ref in image_refs(text):
                key = media_key(ref)
                if key not in media:
                    data = media_path(config, key).read_bytes()
                    media[key] = media_name(Path(key), data)
                    payload[media[key]] = data

    rendered = render_cards(cards, media)

    nt = note_type()
    now = build_time()
    nt_mod, nt_status = lock.stamp(NOTETYPE_KEY, nt.content_hash()[:20], now)
    notes = []
    status: Counter[str] = Counter()
    for card in rendered:
        guid = note_guid(GUID_NAMESPACE, card.id)
        mod, state = lock.stamp(card.id, note_hash(card.fields, card.tags, guid, nt.id), now)
        status[state] += 1
        notes.append(PackagedNote(guid=guid, fields=card.fields, tags=card.tags, mod=mod))

    deck = Deck(config.deck_id, config.deck_name, config.deck_description)
    data = apkg_bytes(collection_bytes(notes, nt, nt_mod, deck), list(payload.items()))
    out = out or config.default_out
    write_atomic(out, data)
    # The lock follows the package: it is only updated once the package exists.
    write_atomic(config.path(config.lock_file), format_lock(lock).encode())
    return BuildResult(
        out=out,
        built=len(notes),
        added=status["added"],
        changed=status["changed"],
        unchanged=status["unchanged"],
        media=len(payload),
        notetype=nt_status,
    )
