"""What a learner sees: every card of the built deck, as real Anki renders it, in headless Chromium.

The card HTML comes from Anki itself (`card.question()` / `card.answer()` of an imported
collection), laid out by the preview page in light and night mode at desktop and 360 px phone
width. A script in the page waits for MathJax, then measures: raw TeX left untypeset, MathJax
errors, inline formulas lifted off the text line, code highlighting and its contrast, and any
element that scrolls or sticks out other than a code block, a wide display formula or the text around
an inline formula wider than the card (tests/card_probe.js, shared with the Anki desktop test). The
browser shows classic scrollbars, as Anki does on Windows and Linux. Screenshots are kept in
tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.build import build
from builder.cache import RenderCache
from builder.config import load_config
from builder.notetype import note_types
from builder.preview import PreviewCard, cards_from_fields, find_mathjax, page
from tests.ankiclient import Learner
from tests.chromium import Chromium

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
MATHJAX = find_mathjax(ROOT)

MISSING = [
    why
    for why, missing in (
        ("Chromium not found: `make test` installs Debian's chromium when run as root", CHROMIUM is None),
        ("MathJax 3 not found: `make test` installs it from npm into .venv/mathjax", MATHJAX is None),
    )
    if missing
]
if MISSING and os.environ.get("CI"):
    # CI installs both (.ci/run → make test); a missing browser there must fail, not skip.
    pytest.fail("; ".join(MISSING), pytrace=False)
pytestmark = pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING))

PROBE = (ROOT / "tests" / "card_probe.js").read_text(encoding="utf-8")
HARNESS = (
    PROBE
    + r"""
(async function () {
  const out = document.createElement('pre'); out.id = 'ab-results';
  try {
    await MathJax.startup.promise;
    const cards = [...document.querySelectorAll('.ab-side > .card')].map(
      root => ({ id: root.closest('.ab-item').dataset.id, root }));
    const result = abProbe(cards);
    result.items = document.querySelectorAll('.ab-item').length;
    result.night = document.querySelector('.ab-side > .card').classList.contains('nightMode');
    out.textContent = JSON.stringify(result);
  } catch (e) {
    out.textContent = JSON.stringify({ ok: false, error: String(e) + ' ' + e.stack });
  }
  document.body.appendChild(out);
})();
"""
)


def strip_style(card_html: str) -> str:
    return re.sub(r"^<style>.*?</style>", "", card_html, flags=re.DOTALL)


DECKS = (ROOT, ROOT / "tests" / "fixtures" / "notetypes")  # the real deck, and the cloze and reverse examples


@pytest.fixture(scope="module")
def deck_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("decks")


@pytest.fixture(scope="module")
def anki_media(deck_root: Path, anki_cards) -> Path:
    """The learner's media folder after the import: the files Anki's card HTML points at."""
    return deck_root / "anki" / "collection.media"


@pytest.fixture(scope="module")
def anki_cards(deck_root: Path) -> list[tuple[PreviewCard, PreviewCard]]:
    """(as Anki renders it, as our preview fills it) for every card of the decks, every cloze card too."""
    base = deck_root
    learner = Learner(base / "anki" / "collection.anki2")
    try:
        by_model = {}
        for n, source in enumerate(DECKS):
            root = base / f"deck{n}"
            for name in ("cards", "media"):
                if (source / name).exists():
                    shutil.copytree(source / name, root / name)
            shutil.copy(source / "pyproject.toml", root)
            config = load_config(root)
            result = build(config, out=root / "deck.apkg", cache=RenderCache(None))
            learner.import_apkg(result.out)
            by_model.update({nt.id: nt for nt in note_types(config).values()})
        pairs = []
        for nid in learner.col.db.list("select id from notes order by id"):
            note = learner.col.get_note(nid)
            nt = by_model[note.mid]
            ours = cards_from_fields(nt, [(note["ID"], tuple(note.fields), tuple(note.tags), (note["Source"],))])
            for card in note.cards():
                mine = ours[card.ord] if nt.cloze else ours[0]
                anki = PreviewCard(
                    mine.id,
                    strip_style(card.question()),
                    strip_style(card.answer()),
                    mine.tags,
                    mine.source,
                    mine.variant,
                )
                pairs.append((anki, mine))
        return pairs
    finally:
        learner.close()


def test_preview_shows_exactly_what_anki_renders(anki_cards) -> None:
    assert len(anki_cards) > 300
    assert {ours.variant for _anki, ours in anki_cards} >= {"c1", "c2"}  # cloze cards are among them
    for anki, ours in anki_cards:
        assert (anki.front, anki.back) == (ours.front, ours.back), f"{anki.id} {anki.variant}"


def run_page(
    page_html: str,
    tmp: Path,
    query: str,
    width: int,
    screenshot: Path | None = None,
    media: Path | None = None,
    clips: Callable[[dict], dict[Path, dict]] | None = None,
) -> dict:
    """Open the page (beside a copy of Anki's media folder, so `<img src>` resolves as in Anki),
    wait for the harness's results, and take the screenshots asked for."""
    path = tmp / "page.html"
    path.write_text(page_html, encoding="utf-8")
    if media is not None:
        for file in media.iterdir():
            shutil.copy(file, tmp / file.name)
    browser = Chromium(CHROMIUM, tmp / "profile")
    try:
        browser.open(f"file://{path}?{query}", width)
        raw = browser.wait_for("document.getElementById('ab-results')?.textContent")
        if screenshot:
            browser.screenshot(screenshot)
        if clips:
            for shot, clip in clips(json.loads(raw)).items():
                browser.screenshot(shot, clip)
    finally:
        browser.close()
    return json.loads(raw)


@pytest.mark.parametrize("mode", ["light", "night"])
@pytest.mark.parametrize("width", [1280, 360])
def test_cards_render_right_in_every_mode_and_width(
    anki_cards, anki_media: Path, tmp_path: Path, mode: str, width: int
) -> None:
    cards = [anki for anki, _ours in anki_cards]
    view = "phone" if width == 360 else "desktop"
    css = "\n".join(dict.fromkeys(nt.css for nt in note_types(load_config(ROOT)).values()))
    page_html = page(cards, css, "browser test", MATHJAX, extra_script=HARNESS)
    shot = ARTIFACTS / f"cards-{mode}-{view}.png"
    result = run_page(page_html, tmp_path, f"mode={mode}&view={view}", width, shot, anki_media)

    assert result["ok"], result.get("error")
    assert result["items"] == len(cards) and result["cards"] == 2 * len(cards)
    assert result["night"] == (mode == "night")
    assert result["scrollbar"] > 0  # classic scrollbars that take room, as in Anki on Windows/Linux
    assert result["raw"] == []  # every \( \) and \[ \] was typeset
    assert result["errors"] == []  # and MathJax understood every formula
    assert result["typeset"] > 100 and result["inline"] > 100
    assert result["overflow"] == []  # nothing scrolls or sticks out but code, display math, too-wide formulas
    assert result["lifted"] == []  # inline math sits on the text line
    assert result["scrolling"]  # (the deck has wide code and display math, so the rule is exercised)
    assert result["blocks"] > 30 and result["plain"] == []  # code blocks carry highlighting
    assert result["minContrast"] >= 4.5, result["worst"]
    assert result["clozes"] >= 4 and result["clozeContrast"] >= 4.5, result["clozeWorst"]  # blanks and answers
    assert result["pageWidth"] <= result["viewport"], result["outside"]


# --- diagrams ------------------------------------------------------------------------------------

#: Smallest text size accepted, in CSS px, after the image is scaled to the card: 10 px at a
#: 360 px view (Anki's own footer text is 12 px there), the drawn size (≥ 14 px) on a desktop.
MIN_TEXT_PX = {360: 10.0, 1280: 14.0}

DIAGRAM_HARNESS = r"""
(async function () {
  const out = document.createElement('pre'); out.id = 'ab-results';
  try {
    await MathJax.startup.promise;
    await Promise.all([...document.images].map(img => img.complete ? null : new Promise(done => {
      img.addEventListener('load', done); img.addEventListener('error', done); })));
    const rgb = c => c.match(/[\d.]+/g).slice(0, 3).map(Number);
    function lum([r, g, b]) {
      const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    }
    const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
    const results = [];
    for (const img of document.querySelectorAll('.ab-side .card img')) {
      const src = img.getAttribute('src'), svgText = DIAGRAMS[src];
      if (svgText === undefined) continue;
      const card = img.closest('.card'), cs = getComputedStyle(card);
      const box = img.getBoundingClientRect(), cardBox = card.getBoundingClientRect();
      const contentRight = cardBox.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth);
      // The SVG as Chromium rasterises it at 2x, with the filter the note type's CSS gives the image,
      // over the card's own background (which shows wherever the SVG paints nothing).
      const filter = getComputedStyle(img).filter;
      const holder = document.createElement('div');
      holder.style.cssText = 'position:absolute; left:-5000px; top:0';
      holder.innerHTML = svgText;
      document.body.appendChild(holder);
      const svg = holder.querySelector('svg');
      const W = +svg.getAttribute('width'), H = +svg.getAttribute('height'), k = 2;
      const canvas = document.createElement('canvas'); canvas.width = W * k; canvas.height = H * k;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.fillStyle = cs.backgroundColor; ctx.fillRect(0, 0, W * k, H * k);
      const raster = new Image();
      raster.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(svgText)));
      await raster.decode();
      ctx.filter = filter; ctx.drawImage(raster, 0, 0, W * k, H * k); ctx.filter = 'none';
      const pixels = ctx.getImageData(0, 0, W * k, H * k).data;
      function through(colour) {  // a text colour as the same filter renders it
        const c = document.createElement('canvas'); c.width = c.height = 1;
        const x = c.getContext('2d', { willReadFrequently: true });
        x.filter = filter; x.fillStyle = colour; x.fillRect(0, 0, 1, 1);
        return [...x.getImageData(0, 0, 1, 1).data].slice(0, 3);
      }
      let minContrast = 99, worst = '', minFont = 99, texts = 0;
      for (const t of svg.querySelectorAll('text')) {
        texts++;
        const size = parseFloat(t.getAttribute('font-size')); minFont = Math.min(minFont, size);
        const b = t.getBBox(), cy = b.y + b.height / 2;
        const ink = through(getComputedStyle(t).fill);
        const counts = new Map();
        for (let y = Math.round((cy - size / 2) * k); y < Math.round((cy + size / 2) * k); y++) {
          for (let x = Math.round(b.x * k) + 1; x < Math.round((b.x + b.width) * k) - 1; x++) {
            const i = (y * W * k + x) * 4, p = [pixels[i], pixels[i + 1], pixels[i + 2]];
            if (Math.abs(p[0] - ink[0]) + Math.abs(p[1] - ink[1]) + Math.abs(p[2] - ink[2]) < 90) continue;
            const key = p.join(','); counts.set(key, (counts.get(key) || 0) + 1);
          }
        }
        const background = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0].split(',').map(Number);
        const r = ratio(ink, background);
        if (r < minContrast) { minContrast = r; worst = t.textContent; }
      }
      holder.remove();
      results.push({
        id: img.closest('.ab-item').dataset.id, src, loaded: img.naturalWidth > 0,
        alt: img.getAttribute('alt'), naturalWidth: img.naturalWidth, width: box.width,
        overflow: box.right > contentRight + 1 || box.left < cardBox.left,
        minTextPx: minFont * box.width / W, minContrast, worst, texts, filter,
        clip: { x: box.left + scrollX, y: box.top + scrollY, width: box.width, height: box.height },
      });
    }
    out.textContent = JSON.stringify({ ok: true, results,
      night: document.querySelector('.ab-side > .card').classList.contains('nightMode'),
      pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth });
  } catch (e) {
    out.textContent = JSON.stringify({ ok: false, error: String(e) + ' ' + e.stack });
  }
  document.body.appendChild(out);
})();
"""


@pytest.mark.parametrize("mode", ["light", "night"])
@pytest.mark.parametrize("width", [1280, 360])
def test_diagrams_are_legible_in_every_mode_and_width(
    anki_cards, anki_media: Path, tmp_path: Path, mode: str, width: int
) -> None:
    """Every diagram card as Anki renders it: the image loads, fits the card, its smallest text is
    at least MIN_TEXT_PX once scaled, and every label keeps 4.5:1 contrast against the pixels
    around it, with the night-mode filter applied."""
    diagrams = {p.name: p.read_text(encoding="utf-8") for p in anki_media.glob("*.svg")}
    cards = [anki for anki, _ours in anki_cards if any(f'src="{name}"' in anki.back for name in diagrams)]
    assert len(cards) >= 25
    view = "phone" if width == 360 else "desktop"
    data = json.dumps(diagrams, ensure_ascii=False).replace("</", "<\\/")
    css = "\n".join(dict.fromkeys(nt.css for nt in note_types(load_config(ROOT)).values()))
    page_html = page(cards, css, "diagram test", MATHJAX, extra_script=f"const DIAGRAMS = {data};\n{DIAGRAM_HARNESS}")
    shots = ARTIFACTS / "diagrams"

    def clips(result: dict) -> dict[Path, dict]:
        return {shots / f"{r['src'].rsplit('-', 1)[0]}-{mode}-{view}.png": r["clip"] for r in result["results"]}

    result = run_page(
        page_html,
        tmp_path,
        f"mode={mode}&view={view}",
        width,
        ARTIFACTS / f"diagrams-{mode}-{view}.png",
        anki_media,
        clips,
    )

    assert result["ok"], result.get("error")
    assert result["night"] == (mode == "night")
    rows = result["results"]
    assert {r["src"] for r in rows} == {name for card in cards for name in diagrams if f'src="{name}"' in card.back}
    for r in rows:
        title = ET.fromstring(diagrams[r["src"]]).findtext("{http://www.w3.org/2000/svg}title")
        assert r["loaded"] and r["texts"] > 0, r
        assert r["alt"] == title, r["id"]  # what a screen reader reads, and what shows if the image fails
        assert not r["overflow"], r
        assert r["width"] <= r["naturalWidth"] + 0.5  # never blown up beyond its drawn size
        assert r["minTextPx"] >= MIN_TEXT_PX[width], (r["id"], r["src"], r["minTextPx"])
        assert r["minContrast"] >= 4.5, (r["id"], r["src"], r["worst"], r["minContrast"])
        assert (r["filter"] != "none") == (mode == "night")
    if width == 360:
        assert min(r["width"] for r in rows) < 400  # the phone really scales them down
    assert result["pageWidth"] <= result["viewport"]
    print(  # the numbers behind the assertions, for the log
        f"{mode}/{view}: {len(rows)} diagrams, min text {min(r['minTextPx'] for r in rows):.1f} px, "
        f"min contrast {min(r['minContrast'] for r in rows):.2f}, widths {min(r['width'] for r in rows):.0f}–"
        f"{max(r['width'] for r in rows):.0f} px"
    )


#: In a standalone SVG: every label inside the canvas, inside the box it is drawn on, and clear of
#: every other label, measured with the fonts the machine really has (CJK from fonts-noto-cjk).
LAYOUT_CHECK = r"""
(function () {
  const svg = document.documentElement;
  const [vx, vy, vw, vh] = svg.getAttribute('viewBox').split(' ').map(Number);
  const shapes = [...svg.querySelectorAll('rect, circle')].slice(1);  // [0] is the panel
  const all = [...svg.querySelectorAll('rect, circle, text')];
  const texts = [...svg.querySelectorAll('text')];
  const problems = [];
  const boxes = texts.map(t => {  // the glyphs' ink, not the font's line box: one em tall
    const b = t.getBBox(), size = parseFloat(getComputedStyle(t).fontSize);
    return {x: b.x, width: b.width, y: b.y + b.height / 2 - size / 2, height: size};
  });
  const inside = (b, r, tol) => b.x >= r.x - tol && b.y >= r.y - tol
    && b.x + b.width <= r.x + r.width + tol && b.y + b.height <= r.y + r.height + tol;
  texts.forEach((t, i) => {
    const b = boxes[i];
    if (!inside(b, {x: vx, y: vy, width: vw, height: vh}, -1)) problems.push('outside canvas: ' + t.textContent);
    const cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    const before = all.indexOf(t);
    let host = null;
    for (const s of shapes) {
      if (all.indexOf(s) > before) continue;
      const r = s.getBBox();
      if (cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height) host = s;
    }
    if (host && !inside(b, host.getBBox(), 1)) problems.push('spills out of its box: ' + t.textContent);
    for (let j = 0; j < i; j++) {
      const o = boxes[j];
      const w = Math.min(b.x + b.width, o.x + o.width) - Math.max(b.x, o.x);
      const h = Math.min(b.y + b.height, o.y + o.height) - Math.max(b.y, o.y);
      if (w > 1 && h > 3) problems.push('overlaps "' + texts[j].textContent + '": ' + t.textContent);
    }
  });
  return JSON.stringify(problems);
})()
"""


def test_diagram_labels_fit_their_boxes_with_real_fonts(tmp_path: Path) -> None:
    svgs = sorted((ROOT / "media").glob("*.svg"))
    assert len(svgs) >= 25
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    assert "Noto Sans CJK" in fonts, "install fonts-noto-cjk (scripts/install-browser-tools.sh does)"
    browser = Chromium(CHROMIUM, tmp_path / "profile")
    problems = {}
    try:
        for svg in svgs:
            browser.open(f"file://{svg}", 800)
            browser.wait_for("document.readyState === 'complete' && document.fonts.status === 'loaded'")
            found = json.loads(browser.evaluate(LAYOUT_CHECK))
            if found:
                problems[svg.name] = found
    finally:
        browser.close()
    assert problems == {}
