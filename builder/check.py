"""Validation rules over loaded cards. Each rule is a small function yielding findings.

`validate` runs them all and returns every finding, sorted by place, so one run reports
everything. Errors stop a build; warnings only fail `ankibuild check --strict`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .cards import Card, Collection, did_you_mean
from .config import Config
from .errors import Finding
from .render import media_key

_IMG_MD_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMG_HTML_RE = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def image_refs(text: str) -> list[str]:
    """Local images a Markdown field refers to (remote URLs are not media)."""
    refs = _IMG_MD_RE.findall(text) + _IMG_HTML_RE.findall(text)
    return [r for r in refs if not re.match(r"^[a-z][a-z0-9+.-]*:", r, re.IGNORECASE)]


@dataclass(frozen=True)
class Context:
    config: Config
    media_files: frozenset[str]  # names relative to media/
    lock_ids: frozenset[str]


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
        for key, text in (("question", card.question), ("answer", card.answer), ("extra", card.extra)):
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


BUILD_RULES: tuple[Rule, ...] = (rule_duplicate_ids, rule_tags, rule_media)


def media_files(config: Config) -> frozenset[str]:
    folder = config.path(config.media_dir)
    if not folder.is_dir():
        return frozenset()
    return frozenset(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def make_context(config: Config, lock_ids: Iterable[str] = ()) -> Context:
    return Context(config=config, media_files=media_files(config), lock_ids=frozenset(lock_ids))


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


def run_checks(config: Config) -> Report:
    from .build import read_lock  # the lock is read by the build too; one reader
    from .cards import load_collection

    col = load_collection(config)
    ctx = make_context(config, read_lock(config).card_ids)
    return Report(validate(col, ctx, ALL_RULES), cards=len(col.cards), files=len(col.files))


ALL_RULES: tuple[Rule, ...] = BUILD_RULES
