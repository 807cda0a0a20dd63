"""The note types: fields, templates and CSS, with the ids each deck's config fixes forever.

Anki matches a note type by id and its fields and templates by their `id` key (see
shared/docs/anki-import.md). Changing a field or template *list* (adding, removing, reordering)
is a schema change: every learner's notes would become "conflicting" and stop updating, and
AnkiWeb would demand a full sync. So the layout is the tool's (layout.py) and the ids the deck's
(`[tool.ankibuild.notetypes.*]`). CSS, template HTML and the name can change freely; each
change gets a newer note type `mod` from the lock. tests/golden/notetype*-schema.json pin this.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from functools import cache

from pygments.formatters import HtmlFormatter
from pygments.styles import get_style_by_name

from .config import Config, NoteTypeIds
from .layout import LAYOUTS
from .render import CODE_CSS_CLASS

# The default code styles (`code-style-light` / `code-style-dark` in the config) both meet WCAG AA
# (4.5:1) for every token colour on the card backgrounds below.
# The editor's font for every field. genanki's default, "Liberation Sans", is missing on Windows and
# macOS, so Anki's editor fell back to a serif font. Anki's editor quotes a font name unless it is
# all lowercase letters and hyphens, so a generic family like this one stays generic: the system's
# sans-serif font, with its CJK fallback, on every platform. Not part of the schema.
FIELD_FONT = "sans-serif"

FRONT = """\
<div class="ab ab-front">
<div class="ab-question">{{Question}}</div>
</div>"""

BACK = """\
{{FrontSide}}

<hr id="answer">

<div class="ab ab-back">
<div class="ab-answer">{{Answer}}</div>
{{#Extra}}<div class="ab-extra">{{Extra}}</div>{{/Extra}}
<div class="ab-meta">{{#Source}}<div class="ab-refs">{{Source}}</div>{{/Source}}\
<span class="ab-tags">{{Tags}}</span> · <span class="ab-id">{{ID}}</span>REPORT</div>
</div>"""

CLOZE_FRONT = """\
<div class="ab ab-front ab-cloze">
<div class="ab-text">{{cloze:Text}}</div>
</div>"""

CLOZE_BACK = """\
<div class="ab ab-back ab-cloze">
<div class="ab-text">{{cloze:Text}}</div>
{{#Extra}}<div class="ab-extra">{{Extra}}</div>{{/Extra}}
<div class="ab-meta">{{#Source}}<div class="ab-refs">{{Source}}</div>{{/Source}}\
<span class="ab-tags">{{Tags}}</span> · <span class="ab-id">{{ID}}</span>REPORT</div>
</div>"""

#: Where the "report a problem" link goes in a back template (nothing without `report-url`).
REPORT_MARK = "REPORT"

# The blanks and the revealed text: bold and blue, each colour at least 4.5:1 on its background.
CLOZE_CSS = """\
.ab .cloze { font-weight: 700; color: #0550ae; }
.nightMode .ab .cloze, .night_mode .ab .cloze { color: #79c0ff; }
.ab .cloze .highlight, .ab .cloze-inactive .highlight { font-weight: normal; }
/* A revealed code block is marked as the answer by a bar on its left. */
.ab .cloze .highlight { box-shadow: inset 4px 0 #0550ae; }
.nightMode .ab .cloze .highlight, .night_mode .ab .cloze .highlight { box-shadow: inset 4px 0 #79c0ff; }
"""
REPORT_CSS = """\
.ab-report { color: inherit; }
"""

BASE_CSS = """\
.card {
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Noto Sans CJK SC", "Microsoft YaHei", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 18px;
  line-height: 1.6;
  text-align: left;
  color: #1f2328;
  background-color: #ffffff;
}
.card.nightMode, .card.night_mode { color: #e6edf3; background-color: #1e1f22; }
.ab { max-width: 44em; margin: 0 auto; overflow-wrap: break-word; }
.ab-question { font-weight: 600; }
.ab p { margin: 0.5em 0; }
.ab ul, .ab ol { margin: 0.4em 0; padding-left: 1.4em; }
.ab-extra {
  margin-top: 1em; padding: 0.5em 0.9em; font-size: 0.92em;
  border-left: 4px solid #d0d7de; background-color: #f6f8fa;
}
.nightMode .ab-extra, .night_mode .ab-extra { border-color: #3d444d; background-color: #26292e; }
.ab-meta { margin-top: 1.2em; font-size: 0.72em; color: #59636e; }
.nightMode .ab-meta, .night_mode .ab-meta { color: #9198a1; }
.ab-refs { margin-bottom: 0.3em; }
.ab-refs a { color: inherit; text-decoration: underline; }
.ab code {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.88em; padding: 0.1em 0.3em; border-radius: 4px; background-color: rgba(175, 184, 193, 0.25);
}
/* Code blocks scroll inside themselves: a long line never widens the card on a phone. */
.ab .highlight { margin: 0.6em 0; border-radius: 6px; max-width: 100%; overflow: hidden; }
.ab .highlight pre {
  margin: 0; padding: 0.7em 0.9em; overflow-x: auto; white-space: pre; line-height: 1.45;
  -webkit-overflow-scrolling: touch;
}
.ab .highlight code { background: none; padding: 0; font-size: 0.82em; }
.ab table { border-collapse: collapse; display: block; max-width: 100%; overflow-x: auto; margin: 0.6em 0; }
.ab th, .ab td { border: 1px solid #d0d7de; padding: 0.3em 0.6em; overflow-wrap: anywhere; }
.nightMode .ab th, .nightMode .ab td, .night_mode .ab th, .night_mode .ab td { border-color: #3d444d; }
.ab img { max-width: 100%; height: auto; }
/* Diagrams (media/*.svg, drawn on their own light panel): centred, scaled down with the card on a
   phone; dimmed in night mode so the panel does not glare (tests/test_browser.py measures contrast). */
.ab img[src$=".svg"] { display: block; margin: 0.6em auto; }
.nightMode .ab img[src$=".svg"], .night_mode .ab img[src$=".svg"] { filter: brightness(0.85); }
/* Wide display math scrolls inside its own box instead of widening the card: MathJax 3 does not
   break lines. */
mjx-container[display="true"], .MathJax_Display { max-width: 100%; overflow-x: auto; overflow-y: hidden; }
/* Inline math stays inline: a box with overflow set would sit on its bottom edge (lifting the
   formula off the line) and scroll whenever MathJax's hidden screen-reader copy, which is wider than
   the drawn formula, sticks out of it. The copy is held to the formula's own box instead, and a
   formula wider than the card makes its paragraph scroll, which only happens when it truly overflows.
   Never vertically: Anki's CommonHTML output pokes a pixel below the last line. */
mjx-container:not([display="true"]) { position: relative; }
mjx-container:not([display="true"]) > mjx-assistive-mml { right: 0; bottom: 0; }
.ab-question, .ab-answer, .ab-text, .ab-extra, .ab p { overflow-x: auto; overflow-y: hidden; }
.mobile .card { font-size: 17px; }
"""


@cache  # every note type of a deck shares it, and building it reads every token style
def _code_css(light_style: str, dark_style: str) -> str:
    light = HtmlFormatter(style=light_style)
    dark = HtmlFormatter(style=dark_style)
    light_fg = get_style_by_name(light_style).styles.get(None, "") or "#1f2328"
    dark_fg = "#e6edf3"
    # Light rules only outside night mode, so no light colour leaks into a dark token.
    light_scope = f".card:not(.nightMode):not(.night_mode) .{CODE_CSS_CLASS}"
    dark_scopes = [f".nightMode .{CODE_CSS_CLASS}", f".night_mode .{CODE_CSS_CLASS}"]
    # Not get_style_defs(): it adds unscoped `pre` and line-number rules (we never emit line
    # numbers) that would leak to every <pre> and let the dark theme's colours win in light mode.
    return "\n".join(
        (
            f"{light_scope} {{ color: {light_fg}; }}",
            *light.get_background_style_defs(light_scope),
            *light.get_token_style_defs(light_scope),
            f"{', '.join(dark_scopes)} {{ color: {dark_fg}; }}",
            *dark.get_background_style_defs(dark_scopes),
            *dark.get_token_style_defs(dark_scopes),
        )
    )


@dataclass(frozen=True)
class Template:
    name: str
    id: int
    front: str
    back: str


@dataclass(frozen=True)
class NoteType:
    kind: str  # 'basic' | 'cloze' (layout.py)
    id: int
    name: str
    fields: tuple[tuple[str, int], ...]
    templates: tuple[Template, ...]
    css: str
    cloze: bool = False

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _id in self.fields)

    field_font: str = FIELD_FONT

    def schema(self) -> dict:
        """What must never change by accident: ids and order of fields and templates."""
        schema = {
            "id": self.id,
            "fields": [{"name": name, "id": fid} for name, fid in self.fields],
            "templates": [{"name": t.name, "id": t.id} for t in self.templates],
        }
        return {**schema, "type": "cloze"} if self.cloze else schema

    def content_hash(self) -> str:
        # One template's HTML under 'front'/'back': a basic note type's payload (and so its hash in
        # the lock) has the shape it had before note types were configurable.
        [template] = self.templates
        payload = {
            **self.schema(),
            "name": self.name,
            "front": template.front,
            "back": template.back,
            "css": self.css,
            "field_font": self.field_font,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _report_link(url: str, label: str) -> str:
    if not url:
        return ""
    href = html.escape(url).replace("{id}", "{{text:ID}}")
    return f' · <a class="ab-report" href="{href}">{html.escape(label)}</a>'


@cache
def note_type(
    ids: NoteTypeIds,
    extra_css: str = "",
    light_style: str = "default",
    dark_style: str = "github-dark",
    report_url: str = "",
    report_label: str = "Report a problem",
) -> NoteType:
    """The note type of `ids.kind` with its configured ids, the deck's CSS and code styles."""
    layout = LAYOUTS[ids.kind]
    front, back = (CLOZE_FRONT, CLOZE_BACK) if layout.cloze else (FRONT, BACK)
    back = back.replace(REPORT_MARK, _report_link(report_url, report_label))
    css = BASE_CSS + _code_css(light_style, dark_style) + "\n"
    if layout.cloze:
        css += CLOZE_CSS
    if report_url:
        css += REPORT_CSS
    if extra_css:
        css += "/* the deck's own CSS (css-file) */\n" + extra_css.rstrip("\n") + "\n"
    [(template_name, template_id)] = ids.templates
    return NoteType(
        kind=ids.kind,
        id=ids.id,
        name=ids.name,
        fields=ids.fields,
        templates=(Template(template_name, template_id, front, back),),
        css=css,
        cloze=layout.cloze,
        field_font=FIELD_FONT,
    )


def note_types(config: Config) -> dict[str, NoteType]:
    """Every note type of the deck, by kind."""
    extra = config.extra_css()
    return {
        kind: note_type(
            ids, extra, config.code_style_light, config.code_style_dark, config.report_url, config.report_label
        )
        for kind, ids in config.notetypes.items()
    }
