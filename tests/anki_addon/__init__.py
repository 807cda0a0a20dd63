"""Test add-on for tests/test_desktop.py: drives the real Anki desktop and measures its reviewer.

Copied into a throw-away base folder's addons21/ and loaded by `anki -b FOLDER`. Reads the job
(JSON) named by $ANKIBUILD_DESKTOP_JOB, imports the package, puts the chosen cards into a filtered
deck and shows each in Anki's own reviewer, question then answer (the Show Answer key), for each
theme and window width. Once MathJax has typeset the answer, tests/card_probe.js measures the page;
each result and a screenshot are saved, the card is buried (the learner's "-" key) and the next one
comes. Everything ends up in the job's results file, written after every card, and Anki then quits.
A watchdog writes what it has and quits if the run hangs; the test has its own timeout as well.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

from anki import import_export_pb2 as ie
from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.decks import DeckId
from aqt import gui_hooks, mw
from aqt.qt import QTimer
from aqt.theme import Theme

JOB = json.loads(Path(os.environ["ANKIBUILD_DESKTOP_JOB"]).read_text(encoding="utf-8"))
PROBE = Path(JOB["probe"]).read_text(encoding="utf-8")
OUT = Path(JOB["results"])
SHOTS = Path(JOB["screenshots"])
IF_NEWER = ie.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER

# Set once the answer is on screen: Anki's reviewer fades the card out, replaces it, awaits MathJax's
# typesetting and only then sets the opacity back to 1 (reviewer.ts).
ANSWER_READY = """(() => { const qa = document.getElementById('qa');
  return !!(qa && qa.querySelector('#answer') && qa.style.opacity === '1'
            && (qa.querySelector('.ab-id') || {}).textContent === %s); })()"""
MEASURE = (
    PROBE
    + """
;(() => { const r = abProbe([{ id: (document.querySelector('.ab-id') || {}).textContent || '?', root: document.body }]);
  r.bodyClass = document.body.className; r.htmlClass = document.documentElement.className;
  const math = document.querySelector('mjx-container');
  r.output = math ? math.getAttribute('jax') : '';
  return JSON.stringify(r); })()"""
)


class Run:
    def __init__(self) -> None:
        self.results: dict = {"started": time.time(), "combos": [], "error": None, "done": False}
        self.combo_index = -1
        self.combo: dict = {}
        self.seen: set[str] = set()
        self.deck_id = DeckId(0)
        self.polls = 0
        self.current: int | None = None
        self.answered = False
        self.card_id = ""

    # -- bookkeeping -----------------------------------------------------------------------------

    def save(self) -> None:
        self.results["elapsed"] = time.time() - self.results["started"]
        tmp = OUT.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.results, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(OUT)

    def fail(self, message: str) -> None:
        self.results["error"] = message
        self.finish()

    def finish(self) -> None:
        self.save()
        QTimer.singleShot(200, mw.unloadProfileAndExit)

    def guard(self, step):
        """Run a step; any exception ends the run with its traceback in the results."""

        def wrapped(*args):
            try:
                step(*args)
            except Exception:
                self.fail(traceback.format_exc())

        return wrapped

    # -- the run ---------------------------------------------------------------------------------

    def start(self) -> None:
        col = mw.col
        opts = ImportAnkiPackageOptions(
            update_notes=IF_NEWER,
            update_notetypes=IF_NEWER,
            merge_notetypes=False,
            with_scheduling=False,
            with_deck_configs=False,
        )
        log = col.import_anki_package(ImportAnkiPackageRequest(package_path=JOB["apkg"], options=opts)).log
        self.results["imported"] = len(log.new)
        deck = col.sched.get_or_create_filtered_deck(deck_id=DeckId(0))
        deck.name = "ankibuild desktop test"
        term = deck.config.search_terms[0]
        term.search = " OR ".join(f'"ID:{card_id}"' for card_id in JOB["cards"])
        term.limit = len(JOB["cards"])
        self.deck_id = DeckId(col.sched.add_or_update_filtered_deck(deck).id)
        self.results["in_deck"] = col.decks.card_count(self.deck_id, include_subdecks=False)
        gui_hooks.reviewer_did_show_question.append(self.guard(self.on_question))
        gui_hooks.reviewer_did_show_answer.append(self.guard(self.on_answer))
        gui_hooks.state_did_change.append(self.guard(self.on_state))
        self.next_combo()

    def next_combo(self) -> None:
        self.combo_index += 1
        if self.combo_index >= len(JOB["combos"]):
            self.results["done"] = True
            self.finish()
            return
        self.combo = dict(JOB["combos"][self.combo_index], cards={})
        self.results["combos"].append(self.combo)
        self.seen = set()
        mw.set_theme(Theme.DARK if self.combo["theme"] == "night" else Theme.LIGHT)
        mw.showNormal()
        mw.resize(self.combo["width"], self.combo["height"])
        mw.col.sched.unbury_deck(self.deck_id)
        mw.col.decks.select(self.deck_id)
        self.fitted = False
        self.fit_tries = 0
        self.current = None
        # Anki keeps its main view at least 400 px wide; a phone is narrower.
        mw.setMinimumWidth(min(400, self.combo["width"]))
        mw.web.setMinimumWidth(min(400, self.combo["width"]))
        QTimer.singleShot(500, self.guard(lambda: mw.moveToState("review")))

    def on_state(self, new_state: str, old_state: str) -> None:
        if old_state == "review" and new_state == "overview" and self.combo:
            missing = sorted(set(JOB["cards"]) - self.seen)
            if missing:
                rows = mw.col.db.all(
                    "select n.sfld, c.queue, c.type, c.did from cards c join notes n on n.id = c.nid where c.did = ?",
                    self.deck_id,
                )
                self.fail(f"the reviewer ran out of cards before showing {missing}: {rows} {mw.col.sched.counts()}")
            else:
                self.next_combo()

    def on_question(self, card) -> None:
        # The reviewer may draw the same question twice (a redraw after an operation): act once.
        if self.current == card.id:
            return
        self.current, self.answered = card.id, False
        self.card_id = card.note()["ID"]
        if not self.fitted:
            # The reviewer's page gets what the window leaves it: resize the window until the page
            # is exactly as wide as asked.
            mw.web.evalWithCallback("window.innerWidth", self.guard(self.fit))
            return
        QTimer.singleShot(100, self.guard(self.show_answer))

    def fit(self, inner: int) -> None:
        target = self.combo["width"]
        self.combo["viewport"] = inner
        if inner != target and self.fit_tries < 5:
            self.fit_tries += 1
            mw.resize(mw.width() + target - inner, self.combo["height"])
            measure = self.guard(lambda: mw.web.evalWithCallback("window.innerWidth", self.guard(self.fit)))
            QTimer.singleShot(400, measure)
            return
        self.fitted = True  # the answer is drawn afresh at this width
        QTimer.singleShot(100, self.guard(self.show_answer))

    def show_answer(self) -> None:
        if mw.reviewer.card and mw.reviewer.card.id == self.current and mw.reviewer.state == "question":
            mw.reviewer.onEnterKey()  # the learner's Show Answer key

    def on_answer(self, card) -> None:
        if card.id != self.current or self.answered:
            return
        self.answered = True
        self.polls = 0
        QTimer.singleShot(100, self.guard(self.poll))

    def poll(self) -> None:
        self.polls += 1
        if self.polls > JOB["typeset_timeout"] * 5:
            self.fail(f"card {self.card_id}: the answer was not shown and typeset in {JOB['typeset_timeout']} s")
            return
        mw.web.evalWithCallback(ANSWER_READY % json.dumps(self.card_id), self.guard(self.ready))

    def ready(self, is_ready: bool) -> None:
        if not is_ready:
            QTimer.singleShot(200, self.guard(self.poll))
            return
        # One more frame so the screenshot shows the finished layout.
        QTimer.singleShot(300, self.guard(lambda: mw.web.evalWithCallback(MEASURE, self.guard(self.measured))))

    def measured(self, raw: str | None) -> None:
        if raw is None:
            self.fail(f"card {self.card_id}: the measuring script failed in the reviewer")
            return
        result = json.loads(raw)
        name = f"desktop-{self.combo['theme']}-{self.combo['name']}-{self.card_id}.png"
        SHOTS.mkdir(parents=True, exist_ok=True)
        mw.grab().save(str(SHOTS / name))
        result["screenshot"] = name
        self.combo["cards"][self.card_id] = result
        self.seen.add(self.card_id)
        self.save()
        if mw.reviewer.card is None or mw.reviewer.card.id != self.current:
            self.fail(f"card {self.card_id}: the reviewer moved on by itself")
            return
        mw.reviewer.bury_current_card()  # the learner's "-": the next card comes


RUN = Run()


def _watchdog() -> None:
    RUN.fail(f"watchdog: the run did not finish in {JOB['watchdog']} s")


def _on_profile_open() -> None:
    QTimer.singleShot(int(JOB["watchdog"] * 1000), _watchdog)
    QTimer.singleShot(500, RUN.guard(RUN.start))


gui_hooks.profile_did_open.append(_on_profile_open)
