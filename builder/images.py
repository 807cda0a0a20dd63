"""What `check` knows about images: alt text, a size limit, and SVGs that stay inside themselves.

An SVG shown through `<img>` cannot run script in today's browsers, but Anki's editor, AnkiDroid's
WebView and anyone who opens the file from the media folder show it as a document, where scripts,
event handlers and external loads do run. So a diagram may reference nothing outside its own file:
no `href` but `#fragment`, no `url()` but `url(#id)`, no `@import`, no `<script>`, `on…=`,
`<foreignObject>`, DTD or entity declarations, or stylesheet processing instructions.

Which files may be read at all (regular files inside media/) is decided by the media listing; this
module only looks at the bytes of files it is given.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterator
from pathlib import Path

#: Largest image file accepted, in bytes. A hand-drawn or generated diagram is 2–15 kB; a PNG
#: screenshot should be compressed below this. Every learner downloads every image of the deck.
MAX_IMAGE_BYTES = 200 * 1024

IMAGE_SUFFIXES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"})

# Elements that load or run something, or embed HTML (which brings its own script vectors).
# (<image>, <use> and <a> are fine as long as their href is a '#fragment': the href rule decides.)
_FORBIDDEN_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object", "audio", "video", "handler"})
_ANIMATION = frozenset({"set", "animate", "animatemotion", "animatetransform", "discard"})
_URL_RE = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_IMPORT_RE = re.compile(r"@import\b", re.IGNORECASE)
_ALT_MD_RE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)")
_IMG_TAG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ALT_ATTR_RE = re.compile(r"\balt\s*=\s*(\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_SRC_ATTR_RE = re.compile(r"\bsrc\s*=\s*[\"']?([^\"'\s>]*)", re.IGNORECASE)


def missing_alt(prose: str) -> Iterator[tuple[int, str]]:
    """(offset, src) of images in a field's prose (code blanked out) that have no alt text."""
    for m in _ALT_MD_RE.finditer(prose):
        if not m[1].strip():
            yield m.start(), m[2]
    for m in _IMG_TAG_RE.finditer(prose):
        alt = _ALT_ATTR_RE.search(m[0])
        if alt is None or not (alt[2] or alt[3] or alt[4] or "").strip():
            src = _SRC_ATTR_RE.search(m[0])
            yield m.start(), src[1] if src else ""


def _local_ref(value: str) -> bool:
    """A reference that stays inside the file: empty or a same-document fragment."""
    return value.strip() == "" or value.strip().startswith("#")


def _css_problems(css: str) -> Iterator[str]:
    if _IMPORT_RE.search(css):
        yield "CSS '@import' loads another file"
    for m in _URL_RE.finditer(css):
        if not _local_ref(m[2]):
            yield f"CSS 'url({m[2][:60]})' loads a resource outside the file"


def svg_problems(data: bytes) -> Iterator[tuple[int, str]]:
    """(line, problem) for everything in an SVG that would load or run something outside it."""
    found: list[tuple[int, str]] = []
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    style_depth = 0
    seen_root = False

    def line() -> int:
        return parser.CurrentLineNumber

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal style_depth, seen_root
        local = name.rsplit(" ", 1)[-1].lower()
        if not seen_root:
            seen_root = True
            if local != "svg":
                found.append((line(), f"root element is <{local}>, not <svg>"))
        if local in _FORBIDDEN_ELEMENTS:
            found.append((line(), f"<{local}> element can run script or load content"))
        if local == "style":
            style_depth += 1
        for attr, value in attrs.items():
            attr_local = attr.rsplit(" ", 1)[-1].lower()
            if attr_local.startswith("on"):
                found.append((line(), f"event handler attribute '{attr_local}' runs script"))
            elif attr_local == "href" and not _local_ref(value):
                found.append((line(), f"<{local} href='{value[:60]}'> references a resource outside the file"))
            elif local in _ANIMATION and attr_local == "attributename" and value.lower().endswith("href"):
                found.append((line(), f"<{local}> animates '{value}', which can point it outside the file"))
            elif attr_local == "style" or "url(" in value.lower():
                for problem in _css_problems(value):
                    found.append((line(), f"attribute '{attr_local}': {problem}"))

    def end(name: str) -> None:
        nonlocal style_depth
        if name.rsplit(" ", 1)[-1].lower() == "style":
            style_depth -= 1

    def text(chars: str) -> None:
        if style_depth > 0:
            for problem in _css_problems(chars):
                found.append((line(), f"<style>: {problem}"))

    def doctype(*_args: object) -> None:
        found.append((line(), "DOCTYPE declaration (entities and external DTDs are not allowed)"))

    def entity(*_args: object) -> None:
        found.append((line(), "entity declaration (it can hide content or load files)"))

    def instruction(target: str, _data: str) -> None:
        if target.lower() == "xml-stylesheet":
            found.append((line(), "<?xml-stylesheet?> loads an external stylesheet"))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.ProcessingInstructionHandler = instruction
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        found.append((exc.lineno or 1, f"is not well-formed XML: {xml.parsers.expat.ErrorString(exc.code)}"))
    if not seen_root and not found:
        found.append((1, "has no <svg> element"))
    yield from found


def image_problems(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, problem, fix) for one image file in media/: its size, and for an SVG its content."""
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        yield (
            1,
            f"image is {size:,} bytes, over the limit of {MAX_IMAGE_BYTES:,} bytes ({MAX_IMAGE_BYTES // 1024} KiB)",
            "simplify the drawing, or compress the image (every learner downloads it)",
        )
        return  # not read: the limit also bounds what check parses
    if path.suffix.lower() == ".svg":
        for line, problem in svg_problems(path.read_bytes()):
            yield line, f"SVG {problem}", "remove it: a diagram may reference only its own '#ids' (see CONTRIBUTING)"
