"""A learner's collection in real Anki (the `anki` package): import, review, inspect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anki import import_export_pb2 as ie
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer

IF_NEWER = ie.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER


@dataclass(frozen=True)
class ImportLog:
    new: int
    updated: int
    duplicate: int
    conflicting: int
    first_field_updated: tuple[str, ...]


@dataclass(frozen=True)
class CardState:
    """Everything a review leaves behind on one card."""

    reps: int
    ivl: int
    due: int
    queue: int
    lapses: int
    factor: int
    did: int
    revlog: int


class Learner:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.col = Collection(str(path))

    def close(self) -> None:
        self.col.close()

    def import_apkg(self, apkg: Path) -> ImportLog:
        opts = ImportAnkiPackageOptions(
            update_notes=IF_NEWER,
            update_notetypes=IF_NEWER,
            merge_notetypes=False,
            with_scheduling=False,
            with_deck_configs=False,
        )
        log = self.col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=opts)).log
        self.col.models._clear_cache()  # the Python note-type cache goes stale after import
        return ImportLog(
            new=len(log.new),
            updated=len(log.updated),
            duplicate=len(log.duplicate),
            conflicting=len(log.conflicting),
            first_field_updated=tuple(n.fields[0] for n in log.updated),
        )

    def review_all(self, deck_name: str, rating: int = CardAnswer.GOOD) -> int:
        """Answer every queued card of the deck once; returns how many were answered."""
        self.col.decks.select(self.col.decks.id_for_name(deck_name))
        seen = set()
        while True:
            queued = self.col.sched.get_queued_cards(fetch_limit=1).cards
            if not queued or queued[0].card.id in seen:
                return len(seen)
            qc = queued[0]
            card = self.col.get_card(qc.card.id)
            card.start_timer()
            self.col.sched.answer_card(self.col.sched.build_answer(card=card, states=qc.states, rating=rating))
            seen.add(card.id)

    def note_id(self, guid: str) -> int:
        return self.col.db.scalar("select id from notes where guid=?", guid)

    def note(self, guid: str):
        return self.col.get_note(self.note_id(guid))

    def card_states(self) -> dict[int, CardState]:
        rows = self.col.db.all("select id, reps, ivl, due, queue, lapses, factor, did from cards")
        return {
            cid: CardState(
                reps,
                ivl,
                due,
                queue,
                lapses,
                factor,
                did,
                self.col.db.scalar("select count() from revlog where cid=?", cid),
            )
            for cid, reps, ivl, due, queue, lapses, factor, did in rows
        }

    def notetypes(self) -> list[dict]:
        return [m for m in self.col.models.all() if not m["name"].startswith(("Basic", "Cloze", "Image Occlusion"))]

    def note_count(self) -> int:
        return self.col.note_count()
