"""Load card files and the tag registry from YAML, keeping the line of every key for errors.

Loading never raises for a problem in the cards: it returns what it could read plus a list of
findings, so that one run reports every problem in every file.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .config import Config
from .errors import Finding
from .layout import DEFAULT_KIND, KINDS

if TYPE_CHECKING:
    from .cache import RenderCache

# libyaml's composer is several times faster; the Python one is the same API.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A cached parse is valid only for the exact loader that made it: this module's own source and the
# YAML library are part of every key, so a change to either re-parses everything.
PARSER_FINGERPRINT = hashlib.sha256(
    b"\0".join([Path(__file__).read_bytes(), yaml.__version__.encode(), Loader.__name__.encode()])
).hexdigest()

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # use with fullmatch: `$` would accept a final newline
AS_OF_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
TAG_RE = re.compile(r"[a-z0-9][a-z0-9-]*(?:::[a-z0-9][a-z0-9-]*)*")  # fullmatch, as SLUG_RE

CARD_KEYS = ("id", "type", "question", "answer", "text", "reverse", "tags", "extra", "source", "refs", "as_of")
#: Keys a card of each type must have, and keys only that type may have.
REQUIRED_KEYS = {"basic": ("id", "question", "answer"), "cloze": ("id", "text")}
TYPE_KEYS = {"basic": ("question", "answer", "reverse"), "cloze": ("text",)}
FILE_KEYS = ("tags", "cards")
TEXT_KEYS = ("question", "answer", "text", "extra")


@dataclass(frozen=True)
class Card:
    """One validated-enough card: the fields as written, plus where each came from."""

    id: str
    question: str
    answer: str
    tags: tuple[str, ...]
    extra: str = ""
    #: the note type: 'basic' (question/answer) or 'cloze' (text with {{c1::…}})
    type: str = DEFAULT_KIND
    #: a cloze card's Markdown with Anki's cloze markers
    text: str = ""
    #: a basic card that also asks answer → question (a second note, see build.py)
    reverse: bool = False
    #: provenance for maintainers (e.g. seed question ids); never shown on the card
    source: tuple[str, ...] = ()
    #: references a learner can follow (paper + year, docs page, URL); shown in the card's footer
    refs: tuple[str, ...] = ()
    #: "YYYY-MM": when the card's time-bound facts were last verified ('' when nothing expires)
    as_of: str = ""
    path: str = ""
    line: int = 0
    #: line of each key in the file (1-based); missing keys fall back to `line`
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)
    #: where each text field's value starts, and whether it is a block scalar (`|`/`>`) whose
    #: lines map one to one onto the file
    starts: Mapping[str, tuple[int, bool]] = field(default_factory=dict, compare=False, hash=False)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    def line_at(self, key: str, offset: int) -> int:
        """File line of character `offset` in field `key` (exact in block scalars)."""
        start, block = self.starts.get(key, (self.line_of(key), False))
        if not block:
            return start
        text = getattr(self, key)
        return start + text.count("\n", 0, offset)


@dataclass(frozen=True)
class TagRegistry:
    tags: Mapping[str, str]
    path: str
    lines: Mapping[str, int]


@dataclass
class Collection:
    """Everything read from the project: cards in file order, the registry, and findings."""

    cards: list[Card]
    registry: TagRegistry
    findings: list[Finding]
    files: list[str]
    #: ids deleted on purpose → (line in the retired file, reason)
    retired: dict[str, tuple[int, str]] = field(default_factory=dict)
    retired_path: str = ""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _type_name(node: yaml.Node, value: object) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, datetime.date):
        return "a date"
    return {bool: "a boolean", int: "a number", float: "a number"}.get(type(value), "a value")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def compose(text: str, rel: str, findings: list[Finding]) -> tuple[yaml.Node | None, object]:
    """The YAML node tree (for lines) and its data; a syntax error becomes a finding and (None, None)."""
    try:
        loader = Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "cannot be parsed"
        # An unclosed bracket or quote is only noticed lines later: say where it was opened.
        if exc.problem and exc.context and exc.context_mark and mark and exc.context_mark.line != mark.line:
            problem += f", {exc.context} that starts at line {exc.context_mark.line + 1}"
        findings.append(
            Finding(
                rel,
                line,
                None,
                f"malformed YAML: {problem}",
                "check indentation, and quote text containing ': ' or starting with a special character",
                rule="yaml",
            )
        )
        return None, None
    except yaml.YAMLError as exc:
        findings.append(Finding(rel, 1, None, f"malformed YAML: {exc}", "fix the YAML syntax", rule="yaml"))
        return None, None
    return node, data


def _mapping_keys(node: yaml.MappingNode, rel: str, card_id: str | None, findings: list[Finding]):
    """Key → (key line, value node), reporting keys given twice (YAML keeps only the last)."""
    seen: dict[str, tuple[int, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
        if key in seen:
            findings.append(
                Finding(
                    rel,
                    _line(key_node),
                    card_id,
                    f"key '{key}' is given twice (first at line {seen[key][0]})",
                    "keep one of them",
                    rule="schema",
                )
            )
        seen[key] = (_line(key_node), value_node)
    return seen


def _string_list(value: object) -> list[str] | None:
    """The value as a list of strings, or None when it is not one."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def load_registry(config: Config, findings: list[Finding]) -> TagRegistry:
    path = config.path(config.tags_file)
    rel = config.rel(path)
    if not path.is_file():
        findings.append(
            Finding(rel, 1, None, "tag registry not found", f"create {rel} with a 'tags:' mapping", rule="tags")
        )
        return TagRegistry({}, rel, {})
    node, data = compose(path.read_text(encoding="utf-8"), rel, findings)
    if node is None:
        return TagRegistry({}, rel, {})
    fix = "write 'tags:' followed by one 'name: one-line description' per line"
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict) or "tags" not in data:
        findings.append(Finding(rel, _line(node), None, "tag registry has no 'tags:' mapping", fix, rule="tags"))
        return TagRegistry({}, rel, {})
    _, tags_node = _mapping_keys(node, rel, None, findings)["tags"]
    if not isinstance(tags_node, yaml.MappingNode):
        findings.append(Finding(rel, _line(tags_node), None, "'tags' must be a mapping", fix, rule="tags"))
        return TagRegistry({}, rel, {})
    tags: dict[str, str] = {}
    lines: dict[str, int] = {}
    for name, (line, _value) in _mapping_keys(tags_node, rel, None, findings).items():
        desc = data["tags"].get(name)
        lines[name] = line
        if not TAG_RE.fullmatch(str(name)):
            findings.append(
                Finding(
                    rel,
                    line,
                    None,
                    f"tag '{name}' is not a valid tag name",
                    "use lowercase letters, digits and '-', with '::' between levels",
                    rule="tags",
                )
            )
            continue
        if not isinstance(desc, str) or not desc.strip():
            findings.append(
                Finding(rel, line, None, f"tag '{name}' has no description", "add a one-line description", rule="tags")
            )
        tags[name] = desc.strip() if isinstance(desc, str) else ""
    for name, line in lines.items():
        parent = name.rpartition("::")[0]
        if parent and parent not in tags:
            findings.append(
                Finding(
                    rel,
                    line,
                    None,
                    f"tag '{name}' has undeclared parent '{parent}'",
                    f"declare '{parent}' too",
                    rule="tags",
                )
            )
    return TagRegistry(tags, rel, lines)


def load_retired(config: Config, findings: list[Finding]) -> dict[str, tuple[int, str]]:
    path = config.path(config.retired_file)
    if not path.is_file():
        return {}
    rel = config.rel(path)
    node, data = compose(path.read_text(encoding="utf-8"), rel, findings)
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        findings.append(
            Finding(rel, _line(node), None, "must be a mapping of 'id: reason'", "see CONTRIBUTING.md", rule="identity")
        )
        return {}
    retired = {}
    for key, (line, _value) in _mapping_keys(node, rel, None, findings).items():
        reason = data.get(key)
        if not isinstance(reason, str) or not reason.strip():
            findings.append(
                Finding(
                    rel, line, str(key), "retired id has no reason", "write 'id: why it was removed'", rule="identity"
                )
            )
        retired[str(key)] = (line, reason if isinstance(reason, str) else "")
    return retired


def card_files(config: Config) -> list[Path]:
    """Every card file under the cards folder, in a stable order (the registry excluded)."""
    cards_dir = config.path(config.cards_dir)
    special = {config.path(config.tags_file).resolve(), config.path(config.retired_file).resolve()}
    files = [p for ext in ("*.yaml", "*.yml") for p in cards_dir.rglob(ext)]
    return sorted((p for p in files if p.resolve() not in special), key=lambda p: p.as_posix())


def parse_card_file(text: str, rel: str, findings: list[Finding]) -> list[Card]:
    """Cards of one file; structural problems go to `findings` (field content is checked later)."""
    node, data = compose(text, rel, findings)
    if node is None:
        return []  # an empty file holds no cards; a malformed one is already reported
    file_tags: list[str] = []
    if isinstance(node, yaml.SequenceNode):
        items_node, items = node, data
    elif isinstance(node, yaml.MappingNode):
        keys = _mapping_keys(node, rel, None, findings)
        for key, (line, _v) in keys.items():
            if key not in FILE_KEYS:
                hint = did_you_mean(key, FILE_KEYS) or "a card file has only 'tags' and 'cards'"
                findings.append(Finding(rel, line, None, f"unknown file-level key '{key}'", hint, rule="schema"))
        if "tags" in keys:
            line, _tags_node = keys["tags"]
            tags_value = _string_list(data.get("tags"))
            if tags_value is None:
                findings.append(
                    Finding(
                        rel,
                        line,
                        None,
                        "file-level 'tags' must be a list of tags",
                        "write tags: [topic::subtopic]",
                        rule="schema",
                    )
                )
            else:
                file_tags = tags_value
        if "cards" not in keys:
            findings.append(
                Finding(
                    rel,
                    _line(node),
                    None,
                    "no 'cards:' list in this file",
                    "add 'cards:' with a list of cards",
                    rule="schema",
                )
            )
            return []
        _line_cards, items_node = keys["cards"]
        items = data.get("cards")
        if items is None:
            return []
        if not isinstance(items_node, yaml.SequenceNode):
            findings.append(
                Finding(
                    rel, _line_cards, None, "'cards' must be a list", "start each card with '- id: ...'", rule="schema"
                )
            )
            return []
    else:
        findings.append(
            Finding(
                rel,
                _line(node),
                None,
                "a card file must be a list of cards or a mapping with 'cards:'",
                "see CONTRIBUTING.md",
                rule="schema",
            )
        )
        return []

    cards = []
    for item_node, item in zip(items_node.value, items, strict=True):
        card = _parse_card(item_node, item, file_tags, rel, findings)
        if card is not None:
            cards.append(card)
    return cards


def _parse_card(node: yaml.Node, item: object, file_tags: list[str], rel: str, findings: list[Finding]) -> Card | None:
    line = _line(node)
    if not isinstance(node, yaml.MappingNode) or not isinstance(item, dict):
        findings.append(
            Finding(
                rel,
                line,
                None,
                f"a card must be a mapping, got {_type_name(node, item)}",
                "write '- id: ...' then question/answer/tags",
                rule="schema",
            )
        )
        return None
    raw_id = item.get("id")
    card_id = raw_id if isinstance(raw_id, str) and raw_id else None
    keys = _mapping_keys(node, rel, card_id, findings)
    lines = {key: kline for key, (kline, _v) in keys.items()}
    ok = True

    def bad(key: str, message: str, fix: str, rule: str = "schema") -> None:
        nonlocal ok
        ok = False
        findings.append(Finding(rel, lines.get(key, line), card_id, message, fix, rule=rule))

    kind = item.get("type", DEFAULT_KIND)
    if kind not in KINDS:
        shown = kind if isinstance(kind, str) else _type_name(keys["type"][1], kind)
        hint = did_you_mean(str(kind), KINDS) if isinstance(kind, str) else ""
        bad("type", f"unknown card type '{shown}'", hint or f"write one of: {', '.join(KINDS)}")
        kind = None  # which keys belong is unknown until the type is fixed
    for key in keys:
        if key not in CARD_KEYS:
            hint = did_you_mean(key, CARD_KEYS)
            bad(key, f"unknown key '{key}'", hint or f"allowed keys: {', '.join(CARD_KEYS)}")
        for other, only in TYPE_KEYS.items():
            if kind is not None and other != kind and key in only and key not in TYPE_KEYS[kind]:
                if key == "reverse":
                    fix = "remove it: a cloze card already asks each of its clozes in turn"
                elif kind == "cloze":
                    fix = "a cloze card has 'text' with {{c1::…}} (and optional 'extra')"
                else:
                    fix = "write 'type: cloze' for a cloze card, or use question/answer"
                bad(key, f"'{key}' belongs to {other} cards, and this card is {kind}", fix)
    for key in REQUIRED_KEYS[kind] if kind is not None else ("id",):
        if key not in keys:
            bad(key, f"missing required field '{key}'", f"add '{key}:'")

    if "id" in keys:
        if not isinstance(raw_id, str) or not raw_id:
            bad(
                "id",
                f"id must be text, got {_type_name(keys['id'][1], raw_id)}",
                "write a slug such as 'kv-cache-size'",
            )
        elif not SLUG_RE.fullmatch(raw_id):
            bad("id", f"id '{raw_id}' is not a slug", "use lowercase a-z, 0-9 and single '-' between words")
    for key in TEXT_KEYS:
        if key not in keys:
            continue
        value = item.get(key)
        if not isinstance(value, str):
            bad(key, f"'{key}' must be text, got {_type_name(keys[key][1], value)}", "quote it, or use a '|' block")
        elif not value.strip():
            bad(
                key,
                f"'{key}' is empty",
                f"write the {key}, or remove the key" if key == "extra" else f"write the {key}",
            )

    own_tags: list[str] = []
    if "tags" in keys:
        own = _string_list(item.get("tags"))
        if own is None:
            bad("tags", "'tags' must be a list of tags", "write tags: [topic::subtopic]")
        else:
            own_tags = own
    tags = tuple(dict.fromkeys([*file_tags, *own_tags]))  # file tags first, no repeats
    if not tags and ok:
        bad("tags", "no tags", "add tags: [topic] to the card, or file-level tags")

    source: list[str] = []
    if "source" in keys:
        src = _string_list(item.get("source"))
        if src is None:
            bad("source", "'source' must be a list of strings", 'write source: ["000:4.1"], quoting each entry')
        else:
            source = src

    refs: list[str] = []
    if "refs" in keys:
        value = _string_list(item.get("refs"))
        if value is None or not value or not all(r.strip() for r in value):
            bad(
                "refs",
                "'refs' must be a non-empty list of references",
                'write refs: ["Vaswani et al., Attention Is All You Need, 2017. https://arxiv.org/abs/1706.03762"]',
            )
        else:
            refs = [" ".join(r.split()) for r in value]

    as_of = ""
    if "as_of" in keys:
        value = item.get("as_of")
        if not isinstance(value, str) or not AS_OF_RE.fullmatch(value):
            shown = value if isinstance(value, str) else _type_name(keys["as_of"][1], value)
            bad("as_of", f"'as_of' must be a year and month like 2026-11, got {shown}", "write as_of: 2026-11")
        else:
            as_of = value

    reverse = False
    if "reverse" in keys:
        value = item.get("reverse")
        if not isinstance(value, bool):
            bad(
                "reverse",
                f"'reverse' must be true or false, got {_type_name(keys['reverse'][1], value)}",
                "write reverse: true",
            )
        else:
            reverse = value and kind == "basic"
    kind = kind or DEFAULT_KIND

    if card_id is None:
        return None

    # A card with errors is still returned (broken fields emptied) so that the other rules can
    # report its remaining problems in the same run; the errors already stop any build.
    def text(key: str) -> str:
        value = item.get(key)
        return value if isinstance(value, str) else ""

    starts = {}
    for key in TEXT_KEYS:
        if key in keys:
            vnode = keys[key][1]
            block = isinstance(vnode, yaml.ScalarNode) and vnode.style in ("|", ">")
            # A block scalar's text starts on the line after its indicator.
            starts[key] = (_line(vnode) + (1 if block else 0), block and vnode.style == "|")

    return Card(
        id=card_id,
        question=text("question"),
        answer=text("answer"),
        tags=tags,
        extra=text("extra"),
        type=kind,
        text=text("text"),
        reverse=reverse,
        source=tuple(source),
        refs=tuple(refs),
        as_of=as_of,
        path=rel,
        line=line,
        lines=lines,
        starts=starts,
    )


def _parse_key(text: str, rel: str) -> str:
    return hashlib.sha256("\0".join([PARSER_FINGERPRINT, rel, text]).encode()).hexdigest()


def _tail(c: Card) -> list:
    return [c.source, c.refs, c.as_of, c.path, c.line, c.lines, c.starts]


def _encode_cards(cards: list[Card]) -> str:
    rows = [[c.id, c.question, c.answer, c.tags, c.extra, c.type, c.text, c.reverse, *_tail(c)] for c in cards]
    return json.dumps(rows, ensure_ascii=False)


def _decode_cards(value: str) -> list[Card] | None:
    """Cards from a cached parse, or None if it cannot be read back.

    The entry's checksum (cache.py) and the parser fingerprint in its key already rule out damage
    and entries written by another version of this module.
    """
    try:
        return [
            Card(
                id=i,
                question=q,
                answer=a,
                tags=tuple(tags),
                extra=extra,
                type=kind,
                text=cloze_text,
                reverse=reverse,
                source=tuple(source),
                refs=tuple(refs),
                as_of=as_of,
                path=path,
                line=line,
                lines=lines,
                starts={k: (v[0], v[1]) for k, v in starts.items()},
            )
            for i, q, a, tags, extra, kind, cloze_text, reverse, source, refs, as_of, path, line, lines, starts in (
                json.loads(value)
            )
        ]
    except (ValueError, TypeError, AttributeError, IndexError):
        return None


def load_collection(config: Config, cache: RenderCache | None = None) -> Collection:
    """Read the registry and every card file; never raises for card problems.

    With a cache, a file whose text is unchanged since it last parsed cleanly is not parsed again.
    """
    findings: list[Finding] = []
    registry = load_registry(config, findings)
    texts: dict[str, str] = {}
    files = []
    for path in card_files(config):
        rel = config.rel(path)
        files.append(rel)
        try:
            texts[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            findings.append(
                Finding(rel, 1, None, f"not UTF-8 text ({exc.reason})", "save the file as UTF-8", rule="yaml")
            )
    keys = {rel: _parse_key(text, rel) for rel, text in texts.items()}
    cached = cache.get_parsed(list(keys.values())) if cache is not None else {}
    fresh: dict[str, str] = {}
    cards: list[Card] = []
    for rel, text in texts.items():
        hit = _decode_cards(cached[keys[rel]]) if keys[rel] in cached else None
        if hit is None:
            before = len(findings)
            hit = parse_card_file(text, rel, findings)
            if len(findings) == before:  # only clean parses are kept: a broken file is re-read and re-reported
                fresh[keys[rel]] = _encode_cards(hit)
        cards.extend(hit)
    if cache is not None:
        cache.put_parsed(fresh)
    retired = load_retired(config, findings)
    return Collection(
        cards=cards,
        registry=registry,
        findings=findings,
        files=files,
        retired=retired,
        retired_path=config.rel(config.path(config.retired_file)),
    )
