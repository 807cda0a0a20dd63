"""load → validate → render → package. Everything is gathered and checked before anything is written."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import mimetypes
import multiprocessing
import multiprocessing.context
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from . import __version__
from .cache import RenderCache
from .cards import Card, Collection, did_you_mean, load_collection
from .check import image_refs, make_context, media_path, validate
from .config import Config
from .errors import AnkibuildError, ValidationFailed
from .lock import Lock, build_time, format_lock, notetype_key, parse_lock, reverse_key
from .notetype import NoteType, note_types
from .package import Deck, PackagedNote, apkg_bytes, collection_bytes, media_name, note_guid, write_atomic
from .preview import cards_from_fields, find_mathjax, page
from .render import (
    RenderedCard,
    Renderer,
    init_worker,
    media_key,
    render_fields,
    render_in_worker,
    renderer_fingerprint,
    reverse_fields,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    built: int  # cards
    added: int
    changed: int
    unchanged: int
    media: int
    notetype: str  # 'added' | 'changed' | 'unchanged' (of the note types the build packaged: the strongest)
    up_to_date: bool = False  # nothing changed since the last build: the output was kept as it was
    reverse: int = 0  # reverse notes packaged besides the cards' own notes


def input_digest(config: Config, tags: Sequence[str], exclude: Sequence[str]) -> str:
    """A digest of everything a build reads, except the lock (see `_lock_digest`)."""
    h = hashlib.sha256()
    settings = {k: str(v) for k, v in vars(config).items()}
    notetypes = {kind: nt.content_hash() for kind, nt in note_types(config).items()}
    h.update(json.dumps([__version__, renderer_fingerprint(), notetypes, settings, tags, exclude]).encode())
    h.update(os.environ.get("SOURCE_DATE_EPOCH", "").encode())
    lock = config.path(config.lock_file).resolve()
    for folder in (config.path(config.cards_dir), config.path(config.media_dir)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.resolve() != lock:
                h.update(path.relative_to(config.root).as_posix().encode() + b"\0")
                h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _lock_digest(config: Config) -> str:
    path = config.path(config.lock_file)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "-"


def read_lock(config: Config) -> Lock:
    path = config.path(config.lock_file)
    if not path.is_file():
        return Lock()
    return parse_lock(path.read_text(encoding="utf-8"), config.rel(path))


def load_checked(config: Config, cache: RenderCache | None = None, lock: Lock | None = None) -> Collection:
    """Load and validate against the lock; raise with every error found, or return the collection."""
    col = load_collection(config, cache)
    findings = validate(col, make_context(config, lock if lock is not None else read_lock(config)))
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


PARALLEL_MIN = 200  # below this many cards to render, starting worker processes costs more than it saves


def card_key(card: Card, media: dict[str, str], fingerprint: str) -> str:
    """Everything a card's HTML depends on: its text, its media names, the renderer."""
    texts = (card.question, card.answer, card.text, card.extra)
    refs = sorted({media_key(r) for text in texts for r in image_refs(text)})
    parts = [fingerprint, card.id, card.type, *texts, "\x1f".join(card.refs)]
    parts += [f"{r}={media.get(r, '')}" for r in refs]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is fastest (workers inherit the imported libraries); Python 3.12+ warns about fork in
    # threaded processes, so use forkserver there.
    if sys.platform == "linux":
        return multiprocessing.get_context("fork" if sys.version_info < (3, 12) else "forkserver")
    return multiprocessing.get_context("spawn")


def render_cards(
    cards: Sequence[Card],
    media: dict[str, str],
    cache: RenderCache | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[RenderedCard]:
    """Rendered cards in input order: cache hits reused, misses rendered (in parallel when many)."""
    cache = cache or RenderCache(None)
    fingerprint = renderer_fingerprint()
    keys = [card_key(card, media, fingerprint) for card in cards]
    fields: dict[str, tuple[str, ...]] = cache.get_many(keys)
    todo = [(key, card) for key, card in zip(keys, cards, strict=True) if key not in fields]
    if progress and len(cards) > len(todo):
        progress(len(cards) - len(todo), len(cards))
    fresh: dict[str, tuple[str, ...]] = {}
    if jobs > 1 and len(todo) >= PARALLEL_MIN:
        chunk = max(16, len(todo) // (jobs * 8))
        with ProcessPoolExecutor(jobs, mp_context=_pool_context(), initializer=init_worker, initargs=(media,)) as pool:
            results = pool.map(render_in_worker, [card for _key, card in todo], chunksize=chunk)
            for (key, _card), result in zip(todo, results, strict=True):
                fresh[key] = result
                if progress:
                    progress(1, len(cards))
    else:
        renderer = Renderer(media)
        for key, card in todo:
            fresh[key] = render_fields(renderer, card)
            if progress:
                progress(1, len(cards))
    cache.put_many(fresh)
    fields.update(fresh)
    return [RenderedCard(card.id, fields[key], card.tags) for key, card in zip(keys, cards, strict=True)]


def note_hash(note_fields: Sequence[str], tags: Sequence[str], guid: str, notetype_id: int) -> str:
    payload = "\x1e".join([guid, str(notetype_id), "\x1f".join(note_fields), " ".join(tags)])
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Note:
    """One note the build packages: a card's own, or the reverse note of a `reverse: true` card."""

    card: Card
    kind: str
    key: str  # in the lock
    guid: str
    fields: tuple[str, ...]
    variant: str = ""  # '' | 'reverse'


def notes_of(config: Config, cards: Sequence[Card], rendered: Sequence[RenderedCard]) -> Iterator[Note]:
    """Every note of these cards, in card order, each reverse note right after its card's.

    The reverse note is a second note of the same basic note type (answer → question), with its
    own GUID and lock entry: turning `reverse` on adds it without touching the forward note, and
    the basic note type keeps its one template (a second one would change its schema, so that
    no learner's notes could be updated any more).
    """
    namespace = config.guid_namespace
    for card, r in zip(cards, rendered, strict=True):
        yield Note(card, card.type, card.id, note_guid(namespace, card.id), r.fields)
        if card.reverse:
            guid = note_guid(namespace, card.id, "reverse")
            yield Note(card, card.type, reverse_key(card.id), guid, reverse_fields(r.fields), "reverse")


def prepare(
    config: Config,
    tags: Sequence[str],
    exclude: Sequence[str],
    cache: RenderCache | None = None,
    lock: Lock | None = None,
):
    """Load, validate and select; returns the cards, media name map and media bytes by name."""
    col = load_checked(config, cache, lock)
    cards = select(col.cards, col.registry.tags, tags, exclude)
    if not cards:
        raise AnkibuildError("no cards match the selected tags (check --tags / --exclude-tags)")
    # Media: only files the selected cards refer to, named by content.
    media: dict[str, str] = {}
    payload: dict[str, bytes] = {}
    for card in cards:
        for text in (card.question, card.answer, card.text, card.extra):
            for ref in image_refs(text):
                key = media_key(ref)
                if key not in media:
                    data = media_path(config, key).read_bytes()
                    media[key] = media_name(Path(key), data)
                    payload[media[key]] = data
    return cards, media, payload


def preview(
    config: Config,
    tags: Sequence[str] = (),
    exclude: Sequence[str] = (),
    out: Path | None = None,
    cache: RenderCache | None = None,
    mathjax: Path | None = None,
) -> tuple[Path, int, Path | None]:
    """Write the preview page; returns its path, the number of cards and the MathJax used."""
    cards, media, payload = prepare(config, tags, exclude, cache)
    rendered = render_cards(cards, media, cache, default_jobs())
    nts = note_types(config)
    items = [
        item
        for note in notes_of(config, cards, rendered)
        for item in cards_from_fields(
            nts[note.kind], [(note.card.id, note.fields, note.card.tags, note.card.source)], note.variant
        )
    ]
    # Images inline as data: URIs, so the page is one self-contained file.
    inline = {
        name: f"data:{mimetypes.guess_type(name)[0] or 'application/octet-stream'};base64,"
        f"{base64.b64encode(data).decode()}"
        for name, data in payload.items()
    }
    if inline:
        pattern = re.compile('src="(' + "|".join(re.escape(n) for n in inline) + ')"')
        items = [
            replace(
                i,
                back=pattern.sub(lambda m: f'src="{inline[m[1]]}"', i.back),
                front=pattern.sub(lambda m: f'src="{inline[m[1]]}"', i.front),
            )
            for i in items
        ]
    found = find_mathjax(config.root, mathjax)
    out = out or config.path(config.out_dir) / "preview.html"
    css = "\n".join(dict.fromkeys(nt.css for nt in nts.values()))  # one copy of what the note types share
    write_atomic(out, page(items, css, f"{config.deck_name} — preview", found).encode("utf-8"))
    return out, len(items), found


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def build(
    config: Config,
    tags: Sequence[str] = (),
    exclude: Sequence[str] = (),
    out: Path | None = None,
    cache: RenderCache | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    description: str | None = None,
    frozen: bool = False,
) -> BuildResult:
    """Load, validate, render and package; writes the .apkg and the lock, nothing else.

    `description` replaces the deck description (a release's version line); with `frozen`, a build
    that would give any note or the note type a new mod fails instead (releases never stamp).
    """
    out = out or config.default_out
    cache = cache or RenderCache(None)
    description = config.deck_description if description is None else description
    # Nothing changed since the last build of this output: it is already right.
    inputs = input_digest(config, tags, exclude) + hashlib.sha256(description.encode()).hexdigest()[:8]
    previous = cache.last_build(str(out.resolve()))
    if previous and previous[0] == inputs + _lock_digest(config) and out.is_file():
        if hashlib.sha256(out.read_bytes()).hexdigest() == previous[1]:
            return BuildResult(**{**json.loads(previous[2]), "out": out, "up_to_date": True})
    lock = read_lock(config)
    cards, media, payload = prepare(config, tags, exclude, cache, lock)
    rendered = render_cards(cards, media, cache, jobs or default_jobs(), progress)

    nts = note_types(config)
    now = build_time()
    kinds = sorted({card.type for card in cards})
    packaged: dict[str, tuple[NoteType, int]] = {}
    nt_status: Counter[str] = Counter()
    for kind in kinds:
        mod, state = lock.stamp(notetype_key(kind), nts[kind].content_hash()[:20], now)
        packaged[kind] = (nts[kind], mod)
        nt_status[state] += 1
    notes = []
    status: Counter[str] = Counter()
    for note in notes_of(config, cards, rendered):
        guid = note.guid
        mod, state = lock.stamp(
            note.key, note_hash(note.fields, note.card.tags, guid, nts[note.kind].id), now, note.kind
        )
        status[state] += 1
        notes.append(PackagedNote(guid=guid, fields=note.fields, tags=note.card.tags, mod=mod, kind=note.kind))

    if frozen and (status["added"] or status["changed"] or nt_status["added"] or nt_status["changed"]):
        raise AnkibuildError(
            f"the lock is not up to date with the cards ({status['added']} added, {status['changed']} changed, "
            f"note types {dict(nt_status)}): run `ankibuild` and commit {config.lock_file} before releasing"
        )
    deck = Deck(config.deck_id, config.deck_name, description)
    data = apkg_bytes(collection_bytes(notes, packaged, deck), list(payload.items()))
    write_atomic(out, data)
    # The lock follows the package: it is only updated once the package exists.
    write_atomic(config.path(config.lock_file), format_lock(lock).encode())
    result = BuildResult(
        out=out,
        built=len(cards),
        added=status["added"],
        changed=status["changed"],
        unchanged=status["unchanged"],
        media=len(payload),
        notetype=next((s for s in ("changed", "added") if nt_status[s]), "unchanged"),
        reverse=len(notes) - len(cards),
    )
    summary = {"built": result.built, "added": 0, "changed": 0, "unchanged": len(notes), "reverse": result.reverse}
    summary |= {"media": result.media, "notetype": "unchanged"}
    cache.record_build(
        str(out.resolve()), inputs + _lock_digest(config), hashlib.sha256(data).hexdigest(), json.dumps(summary)
    )
    return result
