"""Anki's cloze syntax, read the way Anki reads it: `{{c1::text}}`, `{{c1::text::hint}}`, nested clozes.

Checked against Anki 26 (the `anki` package): a cloze ends at the first `}}` after its opener at
its own nesting level, whatever stands between (math, code); the first `::` inside it, at its own
level, starts the hint; an opener that is never closed makes no cloze (and Anki drops the rest of
the field). `check` uses the parse to find clozes that end early, and the preview uses `reveal`
to show a card exactly as Anki does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN_RE = re.compile(r"\{\{c(\d+)::|\}\}|::")
OPEN_RE = re.compile(r"\{\{c\d+::")
# Anki's own MathJax finder: any \( or \[ up to the next \) or \].
_MATHJAX_RE = re.compile(r"\\[(\[].*?\\[)\]]", re.DOTALL)


@dataclass
class Cloze:
    """One closed cloze: its number and where its parts are in the text."""

    number: int
    start: int  # offset of `{{`
    opener_end: int  # offset just after `{{cN::`
    sep: int | None = None  # offset of the `::` that starts the hint
    close: int = -1  # offset of `}}`
    children: list[str | Cloze] = field(default_factory=list)
    hint: list[str] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.close + 2


@dataclass(frozen=True)
class Parsed:
    nodes: list[str | Cloze]  # the text in order: plain text and top-level clozes
    clozes: list[Cloze]  # every closed cloze, nested ones too, in order of their opener
    unclosed: list[tuple[int, int]]  # (offset, number) of openers that are never closed


def parse(text: str) -> Parsed:
    root: list[str | Cloze] = []
    stack: list[Cloze] = []
    closed: list[Cloze] = []
    last = 0

    def add(item: str | Cloze) -> None:
        if not stack:
            root.append(item)
        elif stack[-1].sep is not None:
            stack[-1].hint.append(item if isinstance(item, str) else item_text(item))
        else:
            stack[-1].children.append(item)

    def item_text(item: Cloze) -> str:
        return text[item.start : item.end]

    for m in _TOKEN_RE.finditer(text):
        token = m.group()
        if token == "::" and not (stack and stack[-1].sep is None):
            continue  # plain text: outside clozes, or in a hint
        if token == "}}" and not stack:
            continue
        if m.start() > last:
            add(text[last : m.start()])
        last = m.end()
        if m.group(1) is not None:
            stack.append(Cloze(int(m.group(1)), m.start(), m.end()))
        elif token == "::":
            stack[-1].sep = m.start()
        else:
            node = stack.pop()
            node.close = m.start()
            closed.append(node)
            add(node)
    if last < len(text):
        add(text[last:])
    unclosed = [(node.start, node.number) for node in stack]
    if stack:
        # An unclosed opener makes no cloze, nor does anything nested in it; Anki drops that text.
        outer = stack[0]
        closed = [c for c in closed if c.start < outer.start]
    closed.sort(key=lambda c: c.start)
    return Parsed(root, closed, unclosed)


def numbers(text: str) -> list[int]:
    """The cloze numbers Anki makes a card for (c0 makes none), in order."""
    return sorted({c.number for c in parse(text).clozes if c.number > 0})


def _attribute(text: str) -> str:
    """Anki's escaping of the hidden text in `data-cloze`: every ASCII character but letters and digits."""
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
    out = []
    for ch in text:
        if (ch.isascii() and ch.isalnum()) or ord(ch) >= 256:
            out.append(ch)
        else:
            out.append(named.get(ch) or f"&#x{ord(ch):02X};")
    return "".join(out)


def reveal(text: str, number: int, question: bool) -> str:
    """What Anki's `{{cloze:Field}}` shows for card `number` (1-based), front or back."""
    parsed = parse(text)
    maths = [(m.start(), m.end()) for m in _MATHJAX_RE.finditer(text)]

    def in_math(c: Cloze) -> bool:
        return any(a <= c.start and c.end <= b for a, b in maths)

    def render(items: list[str | Cloze]) -> str:
        return "".join(item if isinstance(item, str) else one(item) for item in items)

    def one(c: Cloze) -> str:
        inner = render(c.children)
        active = c.number == number
        if in_math(c):  # inside MathJax Anki writes no HTML, only the text or the blank
            if active and question:
                return "[" + "".join(c.hint) + "]" if c.sep is not None else "[...]"
            return inner
        if not active:
            return f'<span class="cloze-inactive" data-ordinal="{c.number}">{inner}</span>'
        if question:
            blank = "[" + "".join(c.hint) + "]" if c.sep is not None else "[...]"
            return f'<span class="cloze" data-cloze="{_attribute(inner)}" data-ordinal="{c.number}">{blank}</span>'
        return f'<span class="cloze" data-ordinal="{c.number}">{inner}</span>'

    return render(parsed.nodes)
