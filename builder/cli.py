"""The `ankibuild` command: a thin layer of click commands over the library."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import __version__
from .build import build, read_lock
from .cards import load_collection
from .check import run_checks
from .config import load_config
from .new import add_card


def _split(values: tuple[str, ...]) -> list[str]:
    """`--tags a,b --tags c` → [a, b, c]."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.group(invoke_without_command=True)
@click.option(
    "--tags", "tags", multiple=True, help="Build only cards with this tag or a child of it (repeat or comma-separate)."
)
@click.option("--exclude-tags", "exclude", multiple=True, help="Leave out cards with this tag or a child of it.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output .apkg (default: dist/<package>.apkg).",
)
@click.option(
    "-C",
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder (default: nearest with [tool.ankibuild]).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(__version__)
@click.pass_context
def main(ctx: click.Context, tags, exclude, out, project, verbose) -> None:
    """Build the Anki deck from the YAML cards (the default command)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    ctx.obj = load_config(project)
    if ctx.invoked_subcommand is None:
        ctx.invoke(build_cmd, tags=tags, exclude=exclude, out=out)


@main.command("build")
@click.option("--tags", "tags", multiple=True, help="Build only cards with this tag or a child of it.")
@click.option("--exclude-tags", "exclude", multiple=True, help="Leave out cards with this tag or a child of it.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Output .apkg.")
@click.pass_obj
def build_cmd(config, tags, exclude, out) -> None:
    """Build the deck into dist/ (same as plain `ankibuild`)."""
    result = build(config, tags=_split(tags), exclude=_split(exclude), out=out)
    click.echo(
        f"Built {result.built} cards ({result.added} added, {result.changed} changed, "
        f"{result.unchanged} unchanged since the lock; note type {result.notetype}; "
        f"{result.media} media) → {config.rel(result.out)}"
    )


@main.command("check")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "github"]), default="text", help="github: GitHub Actions annotations."
)
@click.pass_obj
def check_cmd(config, strict, fmt) -> None:
    """Run every validation rule on the cards without building."""
    report = run_checks(config)
    click.echo(report.render(fmt, strict))
    report.exit_if_failed(strict)


@main.command("new")
@click.option("--tags", "tag", required=True, help="The card's most specific tag, e.g. compression::quantization.")
@click.option("--question", "-q", default="", help="The question; the id is derived from its ASCII words.")
@click.option(
    "--file", "file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Card file to append to."
)
@click.pass_obj
def new_cmd(config, tag, question, file) -> None:
    """Append a card skeleton with a fresh unique id to the right topic file."""
    col = load_collection(config)
    taken = {c.id for c in col.cards} | read_lock(config).card_ids | set(col.retired)
    path, line, card_id = add_card(config, col, taken, tag, question, file)
    click.echo(f"{config.rel(path)}:{line}: added card '{card_id}'; write its answer, then run `ankibuild check`")
