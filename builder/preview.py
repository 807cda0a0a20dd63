"""`ankibuild preview`: one self-contained HTML page showing every card as Anki shows it.

The card HTML is the note type's own templates filled with the rendered fields (the browser tests
check the same page filled with the HTML real Anki produces). The page carries the note type CSS,
a light/night switch (the classes Anki sets: `nightMode night_mode`), a 360 px phone view (the
`mobile` class AnkiDroid sets), a tag filter, and MathJax 3 inlined when a local copy is found:
no network is needed to open it.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .cloze import numbers, reveal
from .notetype import NoteType

# MathJax 3's single-file TeX→SVG bundle with every TeX extension, as Anki's tex-chtml-full has
# (cards use \boldsymbol, which tex-svg.js would try to fetch): no font or extension files to load.
MATHJAX_FILE = "tex-svg-full.js"
MATHJAX_HELP = (
    "MathJax was not found, so formulas show as TeX source. Get it with `npm install mathjax@3` in the "
    "project folder (in ankibuild's own repository: `make preview`, into .venv/mathjax), or point "
    "ANKIBUILD_MATHJAX / --mathjax at a tex-svg-full.js."
)


def find_mathjax(root: Path, explicit: Path | None = None) -> Path | None:
    """A local MathJax 3 tex-svg-full.js: --mathjax, $ANKIBUILD_MATHJAX, the project's npm installs."""
    candidates = [explicit] if explicit else []
    if os.environ.get("ANKIBUILD_MATHJAX"):
        candidates.append(Path(os.environ["ANKIBUILD_MATHJAX"]))
    for base in (root / ".venv" / "mathjax", root):
        candidates.append(base / "node_modules" / "mathjax" / "es5" / MATHJAX_FILE)
    candidates.append(Path("/usr/share/nodejs/mathjax-full/es5") / MATHJAX_FILE)
    return next((p for p in candidates if p and p.is_file()), None)


_SECTION_RE = re.compile(r"\{\{#(\w+)\}\}(.*?)\{\{/\1\}\}", re.DOTALL)
_FIELD_RE = re.compile(r"\{\{(?:(cloze|text):)?(\w+)\}\}")
_TAG_RE = re.compile(r"<[^>]*>")


def fill(template: str, fields: Mapping[str, str], cloze: int = 0, question: bool = True) -> str:
    """Anki's template syntax as our note types use it: {{Field}}, {{#Field}}…{{/Field}},
    {{text:Field}} (HTML stripped) and {{cloze:Field}} for cloze card `cloze` (1-based)."""
    text = _SECTION_RE.sub(lambda m: m.group(2) if fields.get(m.group(1), "").strip() else "", template)

    def field(m: re.Match[str]) -> str:
        value = fields.get(m.group(2), "")
        if m.group(1) == "cloze":
            return reveal(value, cloze, question)
        if m.group(1) == "text":
            return html.unescape(_TAG_RE.sub("", value))
        return value

    return _FIELD_RE.sub(field, text)


@dataclass(frozen=True)
class PreviewCard:
    id: str
    front: str  # card HTML as a reviewer shows it
    back: str
    tags: tuple[str, ...]
    source: tuple[str, ...]
    variant: str = ""  # '' | 'reverse' | 'c1', 'c2' … (the card of a cloze note)


def cards_from_fields(
    nt: NoteType,
    rendered: Sequence[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]],
    variant: str = "",
) -> list[PreviewCard]:
    """PreviewCards from (id, field values, tags, source), filled into the note type's templates:
    one per card Anki makes (a cloze note makes one per cloze number)."""
    out = []
    [template] = nt.templates
    for card_id, values, tags, source in rendered:
        fields = dict(zip(nt.field_names, values, strict=True))
        fields["Tags"] = " ".join(tags)
        for number in numbers(fields["Text"]) if nt.cloze else [0]:
            front = fill(template.front, fields, number, question=True)
            back = fill(template.back, {**fields, "FrontSide": front}, number, question=False)
            which = f"c{number}" if nt.cloze else variant
            out.append(PreviewCard(card_id, front, back, tuple(tags), tuple(source), which))
    return out


PAGE_CSS = """
body.ab-preview { margin: 0; font-family: system-ui, sans-serif; background: #eef0f3; color: #1f2328; }
body.ab-preview.ab-dark { background: #111214; color: #e6edf3; }
.ab-bar { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center;
  padding: 8px 12px; background: inherit; border-bottom: 1px solid #8884; font-size: 14px; }
.ab-bar input[type=search] { min-width: 14em; }
.ab-note { margin: 8px 12px; padding: 8px 12px; background: #fff3cd; color: #5c4400; border-radius: 6px;
  font-size: 14px; }
.ab-list { padding: 12px; }
.ab-item { margin: 0 auto 16px; max-width: 1200px; }
.ab-item header { font-size: 12px; opacity: 0.8; margin: 0 0 4px; overflow-wrap: anywhere; }
.ab-item header code { font-size: 12px; }
.ab-sides { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.ab-side { border: 1px solid #8884; border-radius: 8px; overflow: hidden; min-width: 0; }
.ab-side > .card { padding: 12px 14px; min-height: 3em; }
body.ab-phone .ab-item { max-width: 360px; }
body.ab-phone .ab-sides { grid-template-columns: 1fr; }
.ab-hidden { display: none; }
"""

PAGE_JS = """
(function () {
  const body = document.body;
  const params = new URLSearchParams(location.search);
  function setMode(night) {
    body.classList.toggle('ab-dark', night);
    for (const el of document.querySelectorAll('.ab-side > .card')) {
      el.classList.toggle('nightMode', night);
      el.classList.toggle('night_mode', night);
    }
    document.documentElement.classList.toggle('night-mode', night);
  }
  function setPhone(phone) {
    body.classList.toggle('ab-phone', phone);
    document.documentElement.classList.toggle('mobile', phone);
  }
  function filter(text) {
    const wanted = text.trim().toLowerCase().split(/\\s+/).filter(Boolean);
    for (const item of document.querySelectorAll('.ab-item')) {
      const tags = item.dataset.tags.split(' ');
      const ok = wanted.every(w => tags.some(t => t === w || t.startsWith(w + '::')) || item.dataset.id.includes(w));
      item.classList.toggle('ab-hidden', !ok);
    }
  }
  const night = document.getElementById('ab-night'), phone = document.getElementById('ab-phone');
  const tag = document.getElementById('ab-tag');
  night.checked = params.get('mode') === 'night';
  phone.checked = params.get('view') === 'phone';
  tag.value = params.get('tag') || '';
  night.addEventListener('change', () => setMode(night.checked));
  phone.addEventListener('change', () => setPhone(phone.checked));
  tag.addEventListener('input', () => filter(tag.value));
  setMode(night.checked); setPhone(phone.checked); filter(tag.value);
})();
"""

MATHJAX_CONFIG = """
window.MathJax = {
  tex: { inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']], processEscapes: false },
  svg: { fontCache: 'global' },
  options: { skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code'] },
  startup: { typeset: true }
};
"""


def page(
    cards: Sequence[PreviewCard],
    css: str,
    title: str,
    mathjax: Path | None,
    extra_script: str = "",
) -> str:
    """The whole preview page as one string."""
    items = []
    for c in cards:
        source = f" · source {html.escape(', '.join(c.source))}" if c.source else ""
        variant = f" <em>{html.escape(c.variant)}</em>" if c.variant else ""
        items.append(
            f'<section class="ab-item" data-id="{html.escape(c.id)}" data-tags="{html.escape(" ".join(c.tags))}">'
            f"<header><code>{html.escape(c.id)}</code>{variant} · {html.escape(' '.join(c.tags))}{source}</header>"
            f'<div class="ab-sides"><div class="ab-side"><div class="card">{c.front}</div></div>'
            f'<div class="ab-side"><div class="card">{c.back}</div></div></div></section>'
        )
    if mathjax is not None:
        scripts = f"<script>{MATHJAX_CONFIG}</script>\n<script>{mathjax.read_text(encoding='utf-8')}</script>"
        note = ""
    else:
        scripts = ""
        note = f'<p class="ab-note">{html.escape(MATHJAX_HELP)}</p>'
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{PAGE_CSS}</style>
<style>{css}</style>
</head>
<body class="ab-preview">
<div class="ab-bar"><strong>{html.escape(title)}</strong> <span>{len(cards)} cards</span>
<label><input type="checkbox" id="ab-night"> night mode</label>
<label><input type="checkbox" id="ab-phone"> phone (360 px)</label>
<label>tag <input type="search" id="ab-tag" placeholder="compression::quantization"></label></div>
{note}
<main class="ab-list">
{chr(10).join(items)}
</main>
<script>{PAGE_JS}</script>
{scripts}
<script>{extra_script}</script>
</body></html>
"""
