"""Markdown + math + code → the HTML of a note's fields. Pure: no files are read here.

Before Markdown sees the text, a preprocessor takes out what Markdown must not touch:
fenced code (highlighted with pygments into CSS classes) and math (`\\( \\)`, `\\[ \\]`, `$ $`,
`$$ $$`, emitted as Anki's `\\( \\)` / `\\[ \\]` with the TeX kept byte for byte). It also escapes
`<` that does not open a real HTML tag, so `List<int>` shows as written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from xml.etree import ElementTree

import markdown
import pygments
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .cards import Card

#: Bump when the renderer's output changes for the same input (invalidates every cache).
RENDERER_REVISION = "3"
MARKDOWN_EXTENSIONS = ("tables", "sane_lists")
CODE_CSS_CLASS = "highlight"


def renderer_fingerprint() -> str:
    """What, besides a card's text, decides its HTML: our revision and the libraries' versions."""
    return "|".join(
        (
            RENDERER_REVISION,
            f"markdown={version('markdown')}",
            f"pygments={pygments.__version__}",
            ",".join(MARKDOWN_EXTENSIONS),
        )
    )


# HTML elements a card may use as raw HTML; any other `<` is text and gets escaped.
HTML_TAGS = frozenset(
    """a abbr b big blockquote br caption center code dd del details div dl dt em font h1 h2 h3 h4
    h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strike strong sub summary sup table
    tbody td tfoot th thead tr tt u ul var""".split()
)
_TAG_RE = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?=[\s/>])[^<>]*>")
_AUTOLINK_RE = re.compile(r"<(?:https?://|mailto:)[^\s<>]*>")

_FENCE_OPEN_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)(?P<info>[^\n`]*)$")


def fence_info(line: str) -> tuple[str, ...]:
    """The words after the language on a fence's opening line (```python needs=gpu → ('needs=gpu',))."""
    m = _FENCE_OPEN_RE.match(line)
    return tuple(m["info"].split()) if m else ()


@dataclass(frozen=True)
class MathSpan:
    tex: str
    display: bool

    def html(self) -> str:
        open_, close = (r"\[", r"\]") if self.display else (r"\(", r"\)")
        return open_ + html.escape(self.tex, quote=False) + close


def find_fences(lines: list[str]) -> list[tuple[int, int, str, str, bool]]:
    """Fenced code blocks as (opening line, closing line, indent, lang, closed), 0-based.

    An unclosed fence runs to the end of the text, as in CommonMark.
    """
    blocks = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m["fence"]
        close_re = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close_re.match(lines[j]):
            j += 1
        blocks.append((i, min(j, len(lines) - 1), m["indent"], m["lang"].lower(), j < len(lines)))
        i = j + 1
    return blocks


def scan_inline(text: str) -> list[tuple[str, int, int, object]]:
    """Split prose into segments: ('text'|'code'|'math'|'lt'|'dollar', start, end, payload).

    Code spans are kept for Markdown; math is taken out; a bare `<` is marked for escaping; an
    escaped `\\$` becomes a plain dollar.
    """
    out: list[tuple[str, int, int, object]] = []
    i = 0
    n = len(text)
    start = 0

    def flush(upto: int) -> None:
        if upto > start:
            out.append(("text", start, upto, None))

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "([":
                close = r"\)" if nxt == "(" else r"\]"
                j = _closing_delimiter(text, i, "\\" + nxt, close)
                if j != -1:
                    flush(i)
                    out.append(("math", i, j + 2, MathSpan(text[i + 2 : j], nxt == "[")))
                    i = start = j + 2
                    continue
            if nxt == "$":
                flush(i)
                out.append(("dollar", i, i + 2, None))
                i = start = i + 2
                continue
            i += 2  # any other escape (incl. `\\`) is Markdown's business
            continue
        if c == "`":
            run = 1
            while i + run < n and text[i + run] == "`":
                run += 1
            j = _closing_backticks(text, i + run, run)
            if j == -1:
                i += run  # no closing run of the same length: literal backticks
                continue
            flush(i)
            out.append(("code", i, j + run, None))
            i = start = j + run
            continue
        if c == "$":
            if text.startswith("$$", i):
                j = text.find("$$", i + 2)
                if j != -1 and text[i + 2 : j].strip():
                    flush(i)
                    out.append(("math", i, j + 2, MathSpan(text[i + 2 : j], True)))
                    i = start = j + 2
                    continue
                i += 2
                continue
            j = _closing_dollar(text, i)
            if j != -1:
                flush(i)
                out.append(("math", i, j + 1, MathSpan(text[i + 1 : j], False)))
                i = start = j + 1
                continue
            i += 1
            continue
        if c == "<":
            m = _TAG_RE.match(text, i)
            if text.startswith("<!--", i) or _AUTOLINK_RE.match(text, i) or (m and m[1].lower() in HTML_TAGS):
                i += 1
                continue
            flush(i)
            out.append(("lt", i, i + 1, None))
            i = start = i + 1
            continue
        i += 1
    flush(n)
    return out


def _closing_delimiter(text: str, i: int, opener: str, closer: str) -> int:
    """Where `closer` ends the math opened at `i`, or -1 when it is unclosed: a second opener
    or a blank line (the end of the paragraph) comes first."""
    j = text.find(closer, i + 2)
    if j == -1:
        return -1
    for stop in (opener, "\n\n"):
        k = text.find(stop, i + 2, j)
        if k != -1:
            return -1
    return j


def _closing_backticks(text: str, j: int, run: int) -> int:
    """Start of the next run of exactly `run` backticks at or after `j`, or -1."""
    while True:
        j = text.find("`" * run, j)
        if j == -1:
            return -1
        k = j
        while k < len(text) and text[k] == "`":
            k += 1
        if k - j == run:
            return j
        j = k


def _closing_dollar(text: str, i: int) -> int:
    """Pandoc's rule: `$x$` is math when the opener is followed and the closer preceded by a
    non-space, the closer is not followed by a digit, and no other `$` stands between them on the
    line. Otherwise the `$` is a dollar sign (prices, shell variables)."""
    if i + 1 >= len(text) or text[i + 1].isspace():
        return -1
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\n":
            return -1
        if ch == "\\":
            j += 2
            continue
        if ch == "$":
            if text[j - 1].isspace() or (j + 1 < len(text) and text[j + 1].isdigit()):
                return -1
            return j
        j += 1
    return -1


@lru_cache(maxsize=64)
def _lexer(lang: str):
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=True) if lang else None
    except ClassNotFound:
        return None


_FORMATTER = HtmlFormatter(cssclass=CODE_CSS_CLASS, wrapcode=True)


def highlight_code(code: str, lang: str) -> str:
    """A code block as HTML with pygments CSS classes (plain escaped text when the language is unknown)."""
    lexer = _lexer(lang)
    lang_class = f" language-{html.escape(lang)}" if lang else ""
    if lexer is None:
        body = html.escape(code if code.endswith("\n") else code + "\n", quote=False)
        return f'<div class="{CODE_CSS_CLASS}{lang_class}"><pre><code>{body}</code></pre></div>'
    # pygments opens every block with an empty `<span></span>` (an anchor for line numbers, which we
    # never emit); without it the field's HTML starts with the code itself.
    out = pygments.highlight(code, lexer, _FORMATTER).replace("<pre><span></span>", "<pre>", 1)
    if lang_class:
        out = out.replace(f'<div class="{CODE_CSS_CLASS}">', f'<div class="{CODE_CSS_CLASS}{lang_class}">', 1)
    return out.rstrip("\n")


class _Protect(Preprocessor):
    """Take code fences and math out of Markdown's reach (see the module docstring)."""

    def run(self, lines: list[str]) -> list[str]:
        stash = self.md.htmlStash
        out: list[str] = []
        prose: list[str] = []

        def flush_prose() -> None:
            if prose:
                out.extend(self._inline("\n".join(prose)).split("\n"))
                prose.clear()

        fences = {block[0]: block[1:] for block in find_fences(lines)}
        i = 0
        while i < len(lines):
            if i not in fences:
                prose.append(lines[i])
                i += 1
                continue
            flush_prose()
            end, indent, lang, closed = fences[i]
            body_lines = lines[i + 1 : end] if closed else lines[i + 1 : end + 1]
            code = "\n".join(line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in body_lines)
            placeholder = stash.store(highlight_code(code + "\n" if code else "", lang))
            # A blank line around the block makes Markdown treat the placeholder as its own block.
            # Python-Markdown nests a block in a list item only at 4+ spaces; "1. " fences sit at 3.
            block_indent = indent if not indent or len(indent.expandtabs(4)) >= 4 else "    "
            out.extend(["", block_indent + placeholder, ""])
            i = end + 1
        flush_prose()
        return out

    def _inline(self, text: str) -> str:
        stash = self.md.htmlStash
        parts = []
        for kind, start, end, payload in scan_inline(text):
            if kind == "math":
                parts.append(stash.store(payload.html()))
            elif kind == "lt":
                parts.append("&lt;")
            elif kind == "dollar":
                parts.append("$")
            else:
                parts.append(text[start:end])
        return "".join(parts)


class _Images(Treeprocessor):
    """Point `<img src>` at the content-hashed name the file has inside the package."""

    def __init__(self, md: markdown.Markdown, media: Mapping[str, str]):
        super().__init__(md)
        self.media = media

    def run(self, root: ElementTree.Element) -> None:
        for img in root.iter("img"):
            src = img.get("src", "")
            if src in self.media:
                img.set("src", self.media[src])


class _AnkiExtension(Extension):
    def __init__(self, media: Mapping[str, str]):
        super().__init__()
        self.media = media

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        # After normalize_whitespace (30), which strips the stash markers, before html_block (20).
        md.preprocessors.register(_Protect(md), "ankibuild-protect", 25)
        md.treeprocessors.register(_Images(md, self.media), "ankibuild-images", 5)


def media_key(src: str) -> str:
    """How a card refers to a file in media/: `name.png` or `media/name.png` both work."""
    return src[len("media/") :] if src.startswith("media/") else src


class Renderer:
    """Renders Markdown fields. One instance is reused across cards (building Markdown is slow)."""

    def __init__(self, media: Mapping[str, str] | None = None):
        # Accept both spellings of a media reference.
        names = dict(media or {})
        names.update({f"media/{k}": v for k, v in (media or {}).items()})
        self._md = markdown.Markdown(extensions=[*MARKDOWN_EXTENSIONS, _AnkiExtension(names)], output_format="html")

    def markdown(self, text: str) -> str:
        if not text.strip():
            return ""
        self._md.reset()
        out = self._md.convert(text)
        # A lone paragraph is unwrapped: cleaner in Anki's editor and browser columns.
        if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
            out = out[3:-4]
        return out


@dataclass(frozen=True)
class RenderedCard:
    """The note's field values, in the note type's field order."""

    id: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]


_URL_RE = re.compile(r"https?://[^\s<>\"'，。；、）]+")


def _link(match: re.Match[str]) -> str:
    url = match[0].rstrip(".,;:)]")
    rest = match[0][len(url) :]
    host = url.split("/", 3)[2].removeprefix("www.")
    return f'<a href="{html.escape(url)}">{html.escape(host)}</a>{html.escape(rest)}'


def render_ref(ref: str) -> str:
    """One reference as HTML: the text escaped, each http(s) URL a link labelled with its host."""
    out, last = [], 0
    for m in _URL_RE.finditer(ref):
        out += [html.escape(ref[last : m.start()], quote=False), _link(m)]
        last = m.end()
    out.append(html.escape(ref[last:], quote=False))
    return "".join(out).strip()


def render_refs(refs: tuple[str, ...]) -> str:
    """The footer's references, one per line. Seed ids in `source` are provenance and not shown."""
    return "<br>".join(f'<span class="ab-ref">{render_ref(r)}</span>' for r in refs)


# A cloze opener or closer alone on its line (around a code block, say): Markdown made it a
# paragraph of its own, and a `<p>` that opens in one and closes in the other would break
# Anki's cloze HTML. Unwrapped, the whole block sits inside the cloze's <span>.
_LONE_CLOZE_MARK_RE = re.compile(r"<p>(\{\{c\d+::|(?:::[^<>\n]*)?\}\})</p>")


_LONE_CLOZE_LINE_RE = re.compile(r"[ \t]*(?:\{\{c\d+::|(?:::.*)?\}\})[ \t]*")


def render_cloze_text(renderer: Renderer, text: str) -> str:
    """A cloze card's text: Markdown, with its cloze markers kept where Anki looks for them."""
    lines = text.split("\n")
    in_code = {i for start, end, *_rest in find_fences(lines) for i in range(start, end + 1)}
    spaced: list[str] = []
    for i, line in enumerate(lines):
        # A marker line of its own becomes a paragraph of its own (unwrapped below), never glued
        # to the paragraph next to it.
        if i not in in_code and _LONE_CLOZE_LINE_RE.fullmatch(line):
            spaced += ["", line, ""]
        else:
            spaced.append(line)
    return _LONE_CLOZE_MARK_RE.sub(r"\1", renderer.markdown("\n".join(spaced)))


def render_fields(renderer: Renderer, card: Card) -> tuple[str, ...]:
    """The note's field values for one card, in its note type's field order (layout.py)."""
    if card.type == "cloze":
        return (
            render_cloze_text(renderer, card.text),
            renderer.markdown(card.extra),
            render_refs(card.refs),
            html.escape(card.id),
        )
    return (
        renderer.markdown(card.question),
        renderer.markdown(card.answer),
        renderer.markdown(card.extra),
        render_refs(card.refs),
        html.escape(card.id),
    )


def reverse_fields(fields: tuple[str, ...]) -> tuple[str, ...]:
    """A basic note's fields for its reverse note: the answer asks, the question answers."""
    question, answer, *rest = fields
    return (answer, question, *rest)


# Worker side of parallel rendering: each process builds its Renderer once.
_worker: Renderer | None = None


def init_worker(media: Mapping[str, str]) -> None:
    global _worker
    _worker = Renderer(media)


def render_in_worker(card: Card) -> tuple[str, ...]:
    assert _worker is not None
    return render_fields(_worker, card)
