"""`ankibuild new`: append a card skeleton with a fresh, readable, unique id to the right file.

The file is appended to as text, never re-dumped, so its comments and formatting stay as written.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from .cards import Collection, compose, did_you_mean
from .config import Config
from .errors import AnkibuildError, Finding
from .package import write_atomic

MAX_WORDS = 6


def slugify(text: str) -> str:
    """The ASCII words of `text` as a slug ('什么是 KV cache？' → 'kv-cache'); '' when there are none."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:MAX_WORDS])


def fresh_id(question: str, tag: str, taken: set[str]) -> str:
    """A readable id from the question (or the tag when it has no ASCII words), made unique."""
    base = slugify(re.sub(r"\{\{c\d+::|::[^}]*\}\}|\}\}", " ", question)) or f"{tag.rsplit('::', 1)[-1]}-card"
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def target_file(config: Config, col: Collection, tag: str) -> Path:
    """The file that already holds most cards with exactly this tag, else cards/<top>/<sub>.yaml."""
    counts = Counter(card.path for card in col.cards if tag in card.tags)
    if counts:
        best = max(sorted(counts), key=lambda path: counts[path])
        return config.root / best
    parts = tag.split("::")
    name = parts[-1] if len(parts) > 1 else "general"
    return config.path(config.cards_dir) / parts[0] / f"{name}.yaml"


@dataclass(frozen=True)
class Layout:
    """How cards sit in an existing file: the column of their '- ' and the file-level tags."""

    dash_column: int
    file_tags: tuple[str, ...]


def _layout(text: str, where: str) -> Layout:
    findings: list[Finding] = []
    node, data = compose(text, where, findings)
    if findings:
        raise AnkibuildError(f"{findings[0].format()}; fix it before adding a card to this file")
    if isinstance(node, yaml.SequenceNode):
        items, file_tags = node, ()
    elif isinstance(node, yaml.MappingNode) and isinstance(data, dict) and "cards" in data:
        items = next(v for k, v in node.value if k.value == "cards")
        tags = data.get("tags") or ()
        file_tags = tuple(tags) if isinstance(tags, list) else ()
    else:
        raise AnkibuildError(f"{where}: not a card file (a list of cards, or a mapping with 'cards:')")
    if not isinstance(items, yaml.SequenceNode) or items.flow_style or not items.value:
        raise AnkibuildError(f"{where}: 'cards' is empty or in [flow] style (add the first card by hand)")
    return Layout(dash_column=items.value[0].start_mark.column - 2, file_tags=file_tags)


def skeleton(
    card_id: str, question: str, tags: list[str], dash_column: int, kind: str = "basic", reverse: bool = False
) -> str:
    """The card's YAML. `question` is a basic card's question, or the start of a cloze card's text."""
    pad = " " * dash_column
    body = " " * (dash_column + 2)
    lines = [f"{pad}- id: {card_id}"]
    if kind != "basic":
        lines.append(f"{body}type: {kind}")
    if tags:
        lines.append(f"{body}tags: [{', '.join(tags)}]")
    if kind == "cloze":
        # An empty text, or one without a {{c1::…}}, fails `ankibuild check` until it is written.
        lines.append(f"{body}text: |")
        if question:
            lines.append(f"{body}  {question}")
        lines.append(f"{body}# extra: |   (optional: the why, a pitfall; shown under the text)")
    else:
        if reverse:
            lines.append(f"{body}reverse: true")
        if question:
            lines += [f"{body}question: |", f"{body}  {question}"]
        else:
            lines.append(f'{body}question: ""')
        # An empty answer fails `ankibuild check` until the contributor writes it.
        lines += [
            f"{body}answer: |",
            f"{body}# extra: |   (optional: the why, a pitfall, the interviewer's follow-up)",
        ]
    lines.append(f"{body}source: []")
    return "\n".join(lines) + "\n"


def add_card(
    config: Config,
    col: Collection,
    taken: set[str],
    tag: str,
    question: str = "",
    file: Path | None = None,
    kind: str = "basic",
    reverse: bool = False,
):
    """Append a skeleton; returns (path, line of the new card, its id)."""
    if reverse and kind != "basic":
        raise AnkibuildError("--reverse is for basic cards (a cloze card asks each cloze in turn)")
    if tag not in col.registry.tags:
        hint = did_you_mean(tag, col.registry.tags)
        raise AnkibuildError(f"unknown tag '{tag}' ({hint or 'declare it in ' + col.registry.path + ' first'})")
    path = file if file is not None else target_file(config, col, tag)
    card_id = fresh_id(question, tag, taken)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        layout = _layout(text, config.rel(path))
        tags = [] if tag in layout.file_tags else [tag]
        prefix = text if text.endswith("\n") or not text else text + "\n"
        addition = skeleton(card_id, question, tags, layout.dash_column, kind, reverse)
    else:
        prefix = f"tags: [{tag}]\ncards:\n"
        addition = skeleton(card_id, question, [], 2, kind, reverse)
    line = prefix.count("\n") + 1
    write_atomic(path, (prefix + addition).encode("utf-8"))
    return path, line, card_id
