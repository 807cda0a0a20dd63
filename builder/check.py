"""Validation rules over loaded cards. Each rule is a small function yielding findings.

`validate` runs them all and returns every finding, sorted by place, so one run reports
everything. Errors stop a build; warnings only fail `ankibuild check --strict`.
"""

from __future__ import annotations

import ast
import datetime
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import cloze
from .cache import RenderCache
from .cards import Card, Collection, did_you_mean
from .config import Config
from .errors import Finding
from .lock import Lock, reverse_key
from .render import HTML_TAGS, fence_info, find_fences, media_key, scan_inline

_IMG_MD_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMG_HTML_RE = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


@functools.lru_cache(maxsize=1 << 16)
def image_refs(text: str) -> tuple[str, ...]:
    """Local images a Markdown field refers to (remote URLs are not media).

    Memoised: validation, media collection and the render-cache key all ask for every field.
    """
    refs = _IMG_MD_RE.findall(text) + _IMG_HTML_RE.findall(text)
    return tuple(r for r in refs if not re.match(r"^[a-z][a-z0-9+.-]*:", r, re.IGNORECASE))


@dataclass(frozen=True)
class Context:
    config: Config
    media_files: frozenset[str]  # names relative to media/
    lock: Lock = field(default_factory=Lock)
    today: datetime.date = field(default_factory=datetime.date.today)
    _prose: dict[str, tuple[str, list[CodeBlock]]] = field(default_factory=dict, repr=False, compare=False)

    def prose(self, text: str) -> tuple[str, list[CodeBlock]]:
        """`prose_only(text)`, worked out once per run: five rules read every field's prose."""
        found = self._prose.get(text)
        if found is None:
            found = self._prose[text] = prose_only(text)
        return found


Rule = Callable[[Collection, Context], Iterable[Finding]]


def rule_duplicate_ids(col: Collection, ctx: Context) -> Iterator[Finding]:
    first: dict[str, Card] = {}
    for card in col.cards:
        if card.id in first:
            other = first[card.id]
            yield Finding(
                card.path,
                card.line_of("id"),
                card.id,
                f"duplicate id, also used at {other.path}:{other.line_of('id')}",
                "give the new card another id; never rename an existing one",
                rule="duplicate-id",
            )
        else:
            first[card.id] = card


def rule_tags(col: Collection, ctx: Context) -> Iterator[Finding]:
    declared = col.registry.tags
    for card in col.cards:
        for tag in card.tags:
            if any(ch.isspace() for ch in tag):
                yield Finding(
                    card.path,
                    card.line_of("tags"),
                    card.id,
                    f"tag '{tag}' contains a space",
                    "use '-' between words",
                    rule="tag",
                )
            elif tag not in declared:
                hint = did_you_mean(tag, declared)
                fix = hint or f"declare it in {col.registry.path} or use a declared tag"
                yield Finding(card.path, card.line_of("tags"), card.id, f"tag '{tag}' is not declared", fix, rule="tag")


def rule_media(col: Collection, ctx: Context) -> Iterator[Finding]:
    for card in col.cards:
        for key, text in _fields(card):
            for ref in image_refs(text):
                if media_key(ref) not in ctx.media_files:
                    hint = did_you_mean(media_key(ref), ctx.media_files)
                    yield Finding(
                        card.path,
                        card.line_of(key),
                        card.id,
                        f"image '{ref}' not found in {ctx.config.media_dir}/",
                        hint or f"add the file to {ctx.config.media_dir}/ or fix the name",
                        rule="media",
                    )


def _regions(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]]]:
    """(math spans, code spans, fenced code blocks) of a field as offsets [start, end)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    fences = [(offsets[a], min(offsets[b + 1] - 1, len(text))) for a, b, _i, _l, _c in find_fences(lines)]
    segments = scan_inline(_mask_spans(text, fences))
    math = [(a, b) for kind, a, b, _p in segments if kind == "math"]
    code = [(a, b) for kind, a, b, _p in segments if kind == "code"]
    return math, code, fences


def _inside(spans: list[tuple[int, int]], at: int) -> tuple[int, int] | None:
    return next(((a, b) for a, b in spans if a <= at < b), None)


def _own_line(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is all of its line but for spaces."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    return not text[line_start:start].strip() and not text[end:line_end].strip()


def cloze_problems(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset, problem, fix) for a cloze card's text, read as Anki reads it (cloze.py)."""
    parsed = cloze.parse(text)
    for at, number in parsed.unclosed:
        yield at, f"cloze '{{{{c{number}::' is never closed, so Anki shows no cloze", "add '}}' where it ends"
    used = {c.number for c in parsed.clozes}
    if not parsed.clozes and not parsed.unclosed:
        yield 0, "a cloze card has no cloze", "mark what to recall as {{c1::…}} (and {{c2::…}} for a second card)"
    if 0 in used:
        first = next(c for c in parsed.clozes if c.number == 0)
        yield first.start, "'c0' is not a cloze number, so it makes no card", "number clozes from c1"
    positive = sorted(n for n in used if n > 0)
    gaps = [n for n in range(1, positive[-1] + 1) if n not in used] if positive else []
    if gaps:
        first = next(c for c in parsed.clozes if c.number > gaps[0])
        shown = ", ".join(f"c{n}" for n in gaps)
        yield (
            first.start,
            f"cloze numbers skip {shown} (used: {', '.join(f'c{n}' for n in positive)})",
            "number clozes without gaps, c1, c2, …: each number is one card",
        )
    math, code, fences = _regions(text)
    for c in parsed.clozes:
        name = f"c{c.number}"
        for spans, what, fix_end in (
            (math, "formula", "write '} }' with a space inside the formula"),
            (code, "code", "write '} }' with a space, or keep that code out of the cloze"),
            (fences, "code block", "write '} }' with a space, or keep that code out of the cloze"),
        ):
            opened = _inside(spans, c.start)
            closed = _inside(spans, c.close)
            if closed and closed != opened:
                yield (
                    c.close,
                    f"'}}}}' inside the {what} ends cloze {name} early (Anki ends a cloze at the first '}}}}')",
                    fix_end,
                )
            elif opened and opened != closed:
                yield (
                    c.start,
                    f"cloze {name} starts inside a {what} and ends outside it",
                    (f"put the whole {what} inside the cloze, or the cloze inside the {what}"),
                )
            if c.sep is not None:
                sep_in = _inside(spans, c.sep)
                if sep_in and sep_in != opened:
                    yield (
                        c.sep,
                        f"'::' inside the {what} starts cloze {name}'s hint, so Anki hides only the text before it",
                        "keep '::' out of the cloze (a hint comes last: {{c1::answer::hint}})",
                    )
        if _inside(fences, c.start) and _inside(fences, c.start) == _inside(fences, c.close):
            yield (
                c.start,
                f"cloze {name} is inside a code block, where highlighting splits it so Anki cannot see it",
                (
                    f"put the whole block in the cloze ('{{{{{name}::' and '}}}}' on lines of their own around it), "
                    "or use inline code"
                ),
            )
        content = text[c.opener_end : c.close]
        spans_block = "\n\n" in re.sub(r"\n[ \t]+\n", "\n\n", content) or any(c.start < a < c.close for a, _b in fences)
        if spans_block:
            closer_start = c.sep if c.sep is not None and _own_line(text, c.sep, c.end) else c.close
            if not (_own_line(text, c.start, c.opener_end) and _own_line(text, closer_start, c.end)):
                yield (
                    c.start,
                    f"cloze {name} spans paragraphs or a code block, which breaks its HTML in Anki",
                    (
                        f"write '{{{{{name}::' and '}}}}' on lines of their own around the block, "
                        "or keep the cloze inside one paragraph"
                    ),
                )


def rule_cloze(col: Collection, ctx: Context) -> Iterator[Finding]:
    for card in col.cards:
        if card.type == "cloze" and card.text:
            for offset, problem, fix in cloze_problems(card.text):
                yield Finding(card.path, card.line_at("text", offset), card.id, problem, fix, rule="cloze")


def rule_cloze_markers(col: Collection, ctx: Context) -> Iterator[Finding]:
    """Only a cloze card's `text` goes through Anki's cloze filter; anywhere else a marker shows as typed."""
    for card in col.cards:
        for key, text in _fields(card):
            if key == "text" or "{{c" not in text:  # the cheap test first: builds run this rule on every field
                continue
            m = cloze.OPEN_RE.search(ctx.prose(text)[0])
            if m:
                fix = (
                    "make it a cloze card: type: cloze, with the text in 'text:'"
                    if card.type == "basic"
                    else "clozes go in 'text'; 'extra' is shown as written"
                )
                yield Finding(
                    card.path,
                    card.line_at(key, m.start()),
                    card.id,
                    f"cloze marker '{m[0]}' in the {card.type} card's '{key}' would show as typed",
                    fix,
                    rule="cloze",
                )


def rule_note_type(col: Collection, ctx: Context) -> Iterator[Finding]:
    """A built card keeps its note type: Anki cannot convert a note's type on import."""
    for card in col.cards:
        entry = ctx.lock.entries.get(card.id)
        if entry is not None and entry.kind != card.type:
            yield Finding(
                card.path,
                card.line_of("type"),
                card.id,
                f"was built as a {entry.kind} card and is now {card.type}; Anki cannot change a note's type on "
                "import, so learners would never get this card",
                f"keep it {entry.kind}; for a {card.type} card, retire this id in {col.retired_path} "
                "and make a new card with a new id",
                rule="identity",
            )


BUILD_RULES: tuple[Rule, ...] = (
    rule_duplicate_ids,
    rule_tags,
    rule_media,
    rule_cloze,
    rule_cloze_markers,
    rule_note_type,
)


def media_files(config: Config) -> frozenset[str]:
    folder = config.path(config.media_dir)
    if not folder.is_dir():
        return frozenset()
    return frozenset(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def make_context(config: Config, lock: Lock | None = None) -> Context:
    return Context(config=config, media_files=media_files(config), lock=lock or Lock())


def validate(col: Collection, ctx: Context, rules: Iterable[Rule] = BUILD_RULES) -> list[Finding]:
    findings = list(col.findings)
    for rule in rules:
        findings.extend(rule(col, ctx))
    return sorted(set(findings), key=lambda f: (f.path, f.line, f.card_id or "", f.message))


def media_path(config: Config, name: str) -> Path:
    return config.path(config.media_dir) / media_key(name)


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    cards: int
    files: int

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    def failed(self, strict: bool) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)

    def render(self, fmt: str = "text", strict: bool = False) -> str:
        if fmt == "github":
            lines = [_github(f, strict) for f in self.findings]
        else:
            lines = [f.format() for f in self.findings]
        verdict = "FAILED" if self.failed(strict) else "OK"
        lines.append(
            f"{verdict}: {self.cards} cards in {self.files} files, {self.errors} error(s), {self.warnings} warning(s)"
        )
        return "\n".join(lines)

    def exit_if_failed(self, strict: bool) -> None:
        if self.failed(strict):
            raise SystemExit(1)


def _github(f: Finding, strict: bool) -> str:
    level = "error" if f.severity == "error" or strict else "warning"
    who = f"card '{f.card_id}': " if f.card_id else ""
    message = f"{who}{f.message}" + (f" ({f.fix})" if f.fix else "")
    # GitHub's workflow-command escaping for the message part.
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} file={f.path},line={f.line},title=ankibuild {f.rule or 'check'}::{message}"


def run_checks(config: Config, cache: RenderCache | None = None) -> Report:
    from .build import read_lock  # the lock is read by the build too; one reader
    from .cards import load_collection

    col = load_collection(config, cache)
    ctx = make_context(config, read_lock(config))
    return Report(validate(col, ctx, ALL_RULES), cards=len(col.cards), files=len(col.files))


# --- contributor rules (ankibuild check): what review would miss -------------------------------

TEXT_FIELDS = ("question", "answer", "text", "extra")
PYTHON_LANGS = frozenset({"python", "py", "python3"})
VOID_TAGS = frozenset({"br", "hr", "img", "wbr"})
COMMON_LANGS = ("python", "bash", "text", "json", "yaml", "cpp", "sql")


def _fields(card: Card) -> Iterator[tuple[str, str]]:
    for key in TEXT_FIELDS:
        text = getattr(card, key)
        if text:
            yield key, text


class CodeBlock(NamedTuple):
    offset: int  # of the opening fence in the field
    lang: str
    code: str
    info: tuple[str, ...]  # words after the language: `needs=gpu`, `output`


def prose_only(text: str) -> tuple[str, list[CodeBlock]]:
    """The text with fenced code and code spans blanked out, plus its fenced code blocks."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    blocks = []
    masked = text
    spans = []
    for start, end, indent, lang, closed in find_fences(lines):
        body = lines[start + 1 : end] if closed else lines[start + 1 : end + 1]
        code = "\n".join(line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in body)
        blocks.append(CodeBlock(offsets[start], lang, code, fence_info(lines[start])))
        spans.append((offsets[start], min(offsets[end + 1] - 1, len(text))))
    masked = _mask_spans(masked, spans)
    masked = _mask_spans(masked, [(a, b) for kind, a, b, _payload in scan_inline(masked) if kind == "code"])
    return masked, blocks


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out every text[a:b] (sorted, disjoint) in one pass, keeping newlines: linear in the text."""
    if not spans:
        return text
    out, last = [], 0
    for a, b in spans:
        out.append(text[last:a])
        out.append(_BLANK_RE.sub(" ", text[a:b]))
        last = b
    out.append(text[last:])
    return "".join(out)


_BLANK_RE = re.compile(r"[^\n]")


def rule_python_parses(col: Collection, ctx: Context) -> Iterator[Finding]:
    for card in col.cards:
        for key, text in _fields(card):
            for offset, lang, code, _info in ctx.prose(text)[1]:
                if lang in PYTHON_LANGS:
                    try:
                        ast.parse(code)
                    except SyntaxError as exc:
                        line = card.line_at(key, offset) + (exc.lineno or 1)
                        yield Finding(
                            card.path,
                            line,
                            card.id,
                            f"Python code does not parse: {exc.msg} (line {exc.lineno} of the block)",
                            "fix the code, or fence it as ```text if it is not meant to run",
                            rule="code",
                        )


def rule_code_language(col: Collection, ctx: Context) -> Iterator[Finding]:
    for card in col.cards:
        for key, text in _fields(card):
            for offset, lang, _code, _info in ctx.prose(text)[1]:
                if not lang:
                    yield Finding(
                        card.path,
                        card.line_at(key, offset),
                        card.id,
                        "code fence without a language",
                        "write ```python, ```bash, ```text …",
                        severity="warning",
                        rule="code",
                    )
                elif not _known_language(lang):
                    yield Finding(
                        card.path,
                        card.line_at(key, offset),
                        card.id,
                        f"unknown code language '{lang}'",
                        did_you_mean(lang, COMMON_LANGS) or "use a pygments lexer name",
                        severity="warning",
                        rule="code",
                    )


def _known_language(lang: str) -> bool:
    from .render import _lexer  # one lexer cache for rendering and checking

    return lang == "text" or _lexer(lang) is not None


def _math_spans(prose: str) -> Iterator[tuple[int, object]]:
    for kind, start, _end, payload in scan_inline(prose):
        if kind == "math":
            yield start, payload


_DELIMS = ((r"\(", r"\)", "inline"), (r"\[", r"\]", "display"))
_TEX_HINT = re.compile(r"[\\^_{}]")


def math_problems(prose: str) -> Iterator[tuple[int, str, str]]:
    """(offset, problem, fix) for unbalanced delimiters and braces in the prose of one field."""
    # Balanced spans, as the renderer will see them; whatever is left over is unbalanced.
    spans = list(_math_spans(prose))
    rest = _mask_spans(prose, [(a, b) for kind, a, b, _payload in scan_inline(prose) if kind in ("math", "dollar")])
    for opener, closer, name in _DELIMS:
        for m in re.finditer(re.escape(opener), rest):
            yield m.start(), f"{name} math '{opener}' is never closed", f"add '{closer}'"
        for m in re.finditer(re.escape(closer), rest):
            yield m.start(), f"'{closer}' closes math that was never opened", f"add '{opener}' before it, or remove it"
    for m in re.finditer(r"\$\$", rest):
        yield m.start(), "display math '$$' is never closed", "add the closing '$$' (or write \\[ … \\])"
    for m in re.finditer(r"(?<![\\$])\$(?=\S)([^$\n]*)", rest):
        if _TEX_HINT.search(m.group(1)):
            yield m.start(), "'$' opens math that is never closed", "close it with '$', or write \\$ for a dollar sign"
    for start, span in spans:
        depth = 0
        for ch_match in re.finditer(r"\\[{}]|[{}]", span.tex):
            token = ch_match.group()
            if token in ("\\{", "\\}"):
                continue
            depth += 1 if token == "{" else -1
            if depth < 0:
                break
        if depth != 0:
            yield (
                start,
                "braces do not balance inside the formula",
                "match every '{' with a '}'; write \\{ for a literal brace",
            )


def _prose_rule(problems: Callable[[str], Iterable[tuple[int, str, str]]], rule: str) -> Rule:
    """A rule from a function over one field's prose (code blanked out) → (offset, problem, fix)."""

    def run(col: Collection, ctx: Context) -> Iterator[Finding]:
        for card in col.cards:
            for key, text in _fields(card):
                for offset, problem, fix in problems(ctx.prose(text)[0]):
                    yield Finding(card.path, card.line_at(key, offset), card.id, problem, fix, rule=rule)

    run.__name__ = f"rule_{rule}"
    return run


rule_math = _prose_rule(math_problems, "math")


_HTML_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*?(/?)>")


def html_problems(prose: str) -> Iterator[tuple[int, str, str]]:
    stack: list[tuple[str, int]] = []
    for m in _HTML_TAG_RE.finditer(prose):
        closing, name, selfclosing = m.group(1), m.group(2).lower(), m.group(3)
        if name not in HTML_TAGS or name in VOID_TAGS or selfclosing:
            continue
        if not closing:
            stack.append((name, m.start()))
        elif stack and stack[-1][0] == name:
            stack.pop()
        elif any(open_name == name for open_name, _ in stack):
            while stack and stack[-1][0] != name:
                inner, at = stack.pop()
                yield at, f"<{inner}> is not closed before </{name}>", f"add </{inner}>"
            stack.pop()
        else:
            yield m.start(), f"</{name}> closes a tag that was never opened", f"remove it or add <{name}>"
    for name, at in stack:
        yield at, f"<{name}> is never closed", f"add </{name}>"


rule_html = _prose_rule(html_problems, "html")


_LIST_ITEM_RE = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+\S")


def glued_lists(prose: str) -> Iterator[tuple[int, str, str]]:
    """List items that Python-Markdown renders as plain text: a list that starts inside a
    paragraph (no blank line before it)."""
    offset = 0
    block_first = None
    for line in prose.split("\n"):
        if not line.strip():
            block_first = None
        elif block_first is None:
            block_first = line
        elif (
            _LIST_ITEM_RE.match(line)
            and not _LIST_ITEM_RE.match(block_first)
            and not block_first.lstrip().startswith(("#", "|"))
        ):
            yield (
                offset,
                "list starts right after a paragraph line, so it renders as plain text",
                ("add a blank line before the list"),
            )
            block_first = line  # report each glued list once
        offset += len(line) + 1


rule_lists = _prose_rule(glued_lists, "markdown")


def rule_unused_media(col: Collection, ctx: Context) -> Iterator[Finding]:
    used = {media_key(ref) for card in col.cards for _k, text in _fields(card) for ref in image_refs(text)}
    for name in sorted(ctx.media_files - used):
        yield Finding(
            f"{ctx.config.media_dir}/{name}",
            1,
            None,
            "file is not used by any card",
            "reference it from a card, or delete it",
            severity="warning",
            rule="media",
        )


def rule_identity(col: Collection, ctx: Context) -> Iterator[Finding]:
    """An id that was built before must not silently disappear: a rename strands reviews."""
    present = {card.id for card in col.cards}
    lock_path = ctx.config.rel(ctx.config.path(ctx.config.lock_file))
    for card_id in sorted(ctx.lock.card_ids - present - set(col.retired)):
        yield Finding(
            lock_path,
            ctx.lock.lines.get(card_id, 1),
            card_id,
            "was built before but is gone from the cards; renaming an id makes a new card and strands "
            "every learner's review history of the old one",
            f"if renamed, restore the old id; if deleted on purpose, add '{card_id}: reason' to {col.retired_path}",
            severity="warning",
            rule="identity",
        )
    for card in col.cards:
        if not card.reverse and card.id in ctx.lock.reverse_ids and reverse_key(card.id) not in col.retired:
            key = reverse_key(card.id)
            yield Finding(
                card.path,
                card.line_of("reverse") if "reverse" in card.lines else card.line_of("id"),
                card.id,
                "its reverse card was built before and stays in every learner's collection: turning 'reverse' "
                "off does not remove it, and it gets no more updates",
                f"turn 'reverse: true' back on; or, if it is meant to go, add '{key}: reason' to {col.retired_path} "
                "and tell learners they may delete it",
                severity="warning",
                rule="identity",
            )
        if card.reverse and reverse_key(card.id) in col.retired:
            line, _reason = col.retired[reverse_key(card.id)]
            yield Finding(
                card.path,
                card.line_of("reverse"),
                card.id,
                f"its reverse card was retired ({col.retired_path}:{line}) and may not come back",
                "remove 'reverse: true'",
                rule="identity",
            )
        if card.id in col.retired:
            line, _reason = col.retired[card.id]
            yield Finding(
                card.path,
                card.line_of("id"),
                card.id,
                f"id was retired ({col.retired_path}:{line}) and may not be reused",
                "choose a new id",
                rule="identity",
            )


# Words every interview question uses; they make unrelated questions look alike.
_FILLER = re.compile(
    r"请|简述|解释|介绍|讨论|列举|说明|什么是|什么|如何|怎么|怎样|为什么|哪些|是否|一下|你|的|了|吗|呢|"
    r"ai|大模型|大语言模型|模型|\b(?:what|how|why|is|are|the|a|an|of|in|to|and|does|do)\b"
)


def normalise_question(text: str) -> str:
    text = re.sub(r"```.*?```|`[^`]*`|\\\(.*?\\\)|\\\[.*?\\\]", " ", text, flags=re.DOTALL)
    text = _FILLER.sub("", text.lower())
    return re.sub(r"[\W_]+", "", text)


def _shingles(text: str, n: int = 2) -> set[str]:
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))} if text else set()


NEAR_DUPLICATE = 0.7  # Jaccard similarity of character bigrams after normalisation


def near_duplicates(questions: list[str], threshold: float = NEAR_DUPLICATE) -> Iterator[tuple[int, int, float]]:
    """Pairs (i, j), i < j, of similar questions; an inverted index keeps it far below n² work."""
    grams = [_shingles(normalise_question(q)) for q in questions]
    index: dict[str, list[int]] = {}
    for j, gj in enumerate(grams):
        shared: dict[int, int] = {}
        for g in gj:
            for i in index.get(g, ()):
                shared[i] = shared.get(i, 0) + 1
        for i, count in shared.items():
            union = len(grams[i]) + len(gj) - count
            if union and count / union >= threshold:
                yield i, j, count / union
        for g in gj:
            index.setdefault(g, []).append(j)


def cloze_prompt(text: str) -> str:
    """A cloze text with its markers taken out, for comparing it with questions."""
    return re.sub(r"\{\{c\d+::|\}\}", "", text)


def rule_near_duplicates(col: Collection, ctx: Context) -> Iterator[Finding]:
    cards = col.cards
    for i, j, score in near_duplicates([c.question or cloze_prompt(c.text) for c in cards]):
        a, b = cards[i], cards[j]
        yield Finding(
            b.path,
            b.line_of("question" if b.question else "text"),
            b.id,
            f"question is nearly the same as card '{a.id}' "
            f"({a.path}:{a.line_of('question' if a.question else 'text')}, similarity {score:.2f})",
            "merge the two cards and list both sources, or make the questions ask different things",
            severity="warning",
            rule="near-duplicate",
        )


def _provenance_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    parts = [rf"\b{re.escape(w)}\b" if w.isascii() and w.replace(" ", "").isalnum() else re.escape(w) for w in words]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def rule_provenance(col: Collection, ctx: Context) -> Iterator[Finding]:
    """A card must not talk about the material it was written from: the learner never saw it."""
    pattern = _provenance_pattern(ctx.config.provenance_words)
    if pattern is None:
        return
    allow = _provenance_pattern(ctx.config.provenance_allow)
    for card in col.cards:
        for key, text in _fields(card):
            prose = ctx.prose(text)[0]
            if allow is not None:
                prose = allow.sub(lambda m: " " * len(m[0]), prose)
            for m in pattern.finditer(prose):
                yield Finding(
                    card.path,
                    card.line_at(key, m.start()),
                    card.id,
                    f"'{m[0]}' refers to the material the card was written from, which the learner never sees",
                    "say it for the learner, e.g. '常见错误说法：… 实际上 …'; keep provenance in 'source'",
                    rule="provenance",
                )


def _months(as_of: str) -> int:
    year, month = as_of.split("-")
    return int(year) * 12 + int(month) - 1


def rule_as_of(col: Collection, ctx: Context) -> Iterator[Finding]:
    """Dated facts go stale: name the cards to re-verify before a release."""
    now = ctx.today.year * 12 + ctx.today.month - 1
    limit = ctx.config.as_of_max_months
    for card in col.cards:
        if not card.as_of:
            continue
        age = now - _months(card.as_of)
        if age > limit:
            yield Finding(
                card.path,
                card.line_of("as_of"),
                card.id,
                f"as_of {card.as_of} is {age} months old (more than {limit})",
                "re-verify the card's dated facts, then set as_of to this month",
                severity="warning",
                rule="as-of",
            )
        elif age < 0:
            yield Finding(
                card.path,
                card.line_of("as_of"),
                card.id,
                f"as_of {card.as_of} is in the future",
                "set as_of to the month the facts were checked",
                rule="as-of",
            )


ALL_RULES: tuple[Rule, ...] = (
    *BUILD_RULES,
    rule_python_parses,
    rule_code_language,
    rule_math,
    rule_html,
    rule_lists,
    rule_unused_media,
    rule_identity,
    rule_near_duplicates,
    rule_provenance,
    rule_as_of,
)
