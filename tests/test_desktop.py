"""What a learner sees in the real Anki desktop reviewer (aqt, Qt WebEngine), not a stand-in browser.

Anki runs under Xvfb with a test add-on (tests/anki_addon) that imports the built deck, shows chosen
cards in its own reviewer in light and night theme, in a wide and a 360 px phone-narrow window, waits
for Anki's MathJax (CommonHTML output, unlike the SVG of the Chromium tests) and measures the answer
with the same rules as tests/test_browser.py (tests/card_probe.js). Screenshots of every card go to
tests/artifacts/. `make test` installs aqt (PyPI, the version of the `anki` test dependency) and
Xvfb (Debian); without them this test skips locally and fails in CI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from builder.build import build
from builder.cache import RenderCache
from builder.config import load_config
from tests.anki_desktop import anki_executable, run_anki, xvfb_executable

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

MISSING = [
    why
    for why, missing in (
        ("Anki desktop (aqt) not found: `make test` installs aqt[qt] from PyPI", anki_executable() is None),
        ("Xvfb not found: `make test` installs Debian's xvfb when run as root", xvfb_executable() is None),
    )
    if missing
]
if MISSING and os.environ.get("CI"):
    pytest.fail("; ".join(MISSING), pytrace=False)  # CI installs both: missing there must fail
pytestmark = pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING))

# Real cards, one for each thing that has gone wrong on some screen.
CARDS = {
    "kv-cache-size-formula": "inline math (2×32×32×128×2 once had a scrollbar and sat above the line)",
    "policy-gradient-reinforce": "an inline formula wider than a phone",
    "matrix-factorization-cf": "a display formula wider than a phone",
    "focal-loss": "a Python block with long lines, and math",
    "structured-vs-unstructured-pruning": "a table",
    "llm-evaluation-overview": "long Chinese text only",
}
COMBOS = [
    {"theme": theme, "name": name, "width": width, "height": height}
    for theme in ("light", "night")
    for name, width, height in (("wide", 1280, 900), ("phone", 360, 800))
]
TIMEOUT = 600  # seconds for the whole Anki run; it takes about a minute on the 2-core CI machine


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("deck")
    for name in ("cards", "media"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "pyproject.toml", root)
    result = build(load_config(root), out=root / "deck.apkg", cache=RenderCache(None))
    for old in ARTIFACTS.glob("desktop-*.png"):
        old.unlink()
    run = run_anki(result.out, list(CARDS), COMBOS, tmp_path_factory.mktemp("anki"), ARTIFACTS, TIMEOUT)
    print(f"Anki desktop run: {run.seconds:.1f} s")
    return run


def test_anki_desktop_ran_every_card_in_every_theme_and_width(desktop) -> None:
    results = desktop.results
    assert results.get("error") is None, f"{results.get('error')}\n--- Anki's output ---\n{desktop.log[-4000:]}"
    assert results["done"]
    assert results["imported"] > 300
    assert results["in_deck"] == len(CARDS)
    assert [(c["theme"], c["name"]) for c in results["combos"]] == [(c["theme"], c["name"]) for c in COMBOS]
    for combo in results["combos"]:
        assert sorted(combo["cards"]) == sorted(CARDS)
        assert combo["viewport"] == combo["width"]  # the reviewer's page really was that wide


@pytest.mark.parametrize("combo", range(len(COMBOS)), ids=[f"{c['theme']}-{c['name']}" for c in COMBOS])
def test_reviewer_shows_each_card_as_a_learner_should_see_it(desktop, combo: int) -> None:
    want = (COMBOS[combo]["theme"], COMBOS[combo]["name"])
    [done] = [c for c in desktop.results.get("combos", []) if (c["theme"], c["name"]) == want]
    night = done["theme"] == "night"
    for card_id, seen in done["cards"].items():
        what = f"{card_id} ({CARDS[card_id]}), {done['theme']} {done['name']}: see {seen['screenshot']}"
        assert seen["ok"], what
        assert seen["output"] == ("CHTML" if seen["typeset"] else ""), what  # Anki's own MathJax, not ours
        assert ("nightMode" in seen["bodyClass"].split()) == night, what
        assert seen["scrollbar"] > 0, what  # Anki on Linux draws classic scrollbars
        assert seen["raw"] == [] and seen["errors"] == [], what  # every formula typeset
        assert seen["lifted"] == [], what  # inline math sits on the text line
        assert seen["overflow"] == [], what  # nothing but code / wide display math / too-wide formulas scrolls
        assert seen["pageWidth"] <= seen["viewport"], (what, seen["outside"])  # the card never widens the page
        assert seen["minContrast"] >= 4.5, (what, seen["worst"])
        assert (ARTIFACTS / seen["screenshot"]).stat().st_size > 10_000, what
    cards = done["cards"]
    assert cards["kv-cache-size-formula"]["inline"] >= 3
    assert cards["llm-evaluation-overview"]["typeset"] == 0
    assert cards["focal-loss"]["blocks"] >= 1 and cards["focal-loss"]["plain"] == []
    if done["name"] == "phone":  # the rule is exercised: these do not fit 360 px and scroll in their box
        assert cards["matrix-factorization-cf"]["scrolling"]
        assert cards["policy-gradient-reinforce"]["wideInline"]
