"""The `ankibuild` command: a thin layer of click commands over the library."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from . import __version__
from .build import build, preview, read_lock
from .cache import RenderCache, default_cache_dir
from .cards import load_collection
from .check import run_checks
from .config import load_config
from .layout import KINDS
from .new import add_card
from .preview import MATHJAX_HELP

PROGRESS_MIN = 500  # cards to render before a progress bar is worth showing


def _split(values: tuple[str, ...]) -> list[str]:
    """`--tags a,b --tags c` → [a, b, c]."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _apply(func, options):
    for option in reversed(options):
        func = option(func)
    return func


def selection_options(func):
    """--tags / --exclude-tags, for every command that picks cards."""
    return _apply(
        func,
        [
            click.option(
                "--tags", "tags", multiple=True, help="Only cards with this tag or a child of it (repeat or a,b)."
            ),
            click.option(
                "--exclude-tags", "exclude", multiple=True, help="Leave out cards with this tag or a child of it."
            ),
        ],
    )


def build_options(func):
    """The build options, shared by plain `ankibuild` and `ankibuild build`."""
    options = [
        selection_options,
        click.option(
            "--out", type=click.Path(dir_okay=False, path_type=Path), help="Output .apkg (default dist/<package>.apkg)."
        ),
        click.option(
            "--jobs", "-j", type=click.IntRange(min=1), help="Render with this many processes (default: all cores)."
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Render cache folder (default ~/.cache/ankibuild).",
        ),
        click.option("--no-cache", is_flag=True, help="Render every card, without reading or writing the cache."),
    ]
    return _apply(func, options)


class _Progress:
    """A progress bar on stderr, only for long renders in an interactive terminal."""

    def __init__(self) -> None:
        self.bar = None
        self.enabled = sys.stderr.isatty() and not os.environ.get("CI")

    def __call__(self, advance: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_MIN:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Rendering", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(advance)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group(invoke_without_command=True)
@build_options
@click.option(
    "-C",
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder (default: nearest with [tool.ankibuild]).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(__version__)
@click.pass_context
def main(ctx: click.Context, project, verbose, **build_args) -> None:
    """Build the Anki deck from the YAML cards (the default command)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    if ctx.invoked_subcommand == "init":
        return  # a new project has no config yet
    ctx.obj = load_config(project)
    if ctx.invoked_subcommand is None:
        ctx.invoke(build_cmd, **build_args)


@main.command("build")
@build_options
@click.pass_obj
def build_cmd(config, tags, exclude, out, jobs, cache_dir, no_cache) -> None:
    """Build the deck into dist/ (same as plain `ankibuild`)."""
    cache = RenderCache(None if no_cache else (cache_dir or default_cache_dir()))
    progress = _Progress()
    try:
        result = build(config, _split(tags), _split(exclude), out, cache, jobs, progress)
    finally:
        progress.close()
        cache.close()
    if result.up_to_date:
        click.echo(f"Up to date: {result.built} cards, nothing changed since the last build → {config.rel(result.out)}")
        return
    reverse = f" + {result.reverse} reverse" if result.reverse else ""
    click.echo(
        f"Built {result.built} cards{reverse} ({result.added} added, {result.changed} changed, "
        f"{result.unchanged} unchanged since the lock; note type {result.notetype}; "
        f"{result.media} media; {cache.hits} rendered from cache) → {config.rel(result.out)}"
    )


@main.command("preview")
@selection_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output page (default dist/preview.html).")
@click.option(
    "--mathjax", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="A local MathJax 3 tex-svg-full.js."
)
@click.pass_obj
def preview_cmd(config, tags, exclude, out, mathjax) -> None:
    """Write a self-contained HTML page showing every card as Anki will."""
    cache = RenderCache(default_cache_dir())
    try:
        path, count, found = preview(config, _split(tags), _split(exclude), out, cache, mathjax)
    finally:
        cache.close()
    click.echo(f"Preview of {count} cards → {config.rel(path)}")
    if found is None:
        click.echo(MATHJAX_HELP, err=True)


@main.command("check")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "github"]), default="text", help="github: GitHub Actions annotations."
)
@click.pass_obj
def check_cmd(config, strict, fmt) -> None:
    """Run every validation rule on the cards without building."""
    cache = RenderCache(default_cache_dir())
    try:
        report = run_checks(config, cache)
    finally:
        cache.close()
    click.echo(report.render(fmt, strict))
    report.exit_if_failed(strict)


@main.command("new")
@click.option("--tags", "tag", required=True, help="The card's most specific tag, e.g. compression::quantization.")
@click.option("--question", "-q", default="", help="The question; the id is derived from its ASCII words.")
@click.option(
    "--file", "file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Card file to append to."
)
@click.option(
    "--type", "kind", type=click.Choice(KINDS), default="basic", help="basic (question/answer) or cloze ({{c1::…}})."
)
@click.option("--reverse", is_flag=True, help="A basic card that also asks answer → question.")
@click.pass_obj
def new_cmd(config, tag, question, file, kind, reverse) -> None:
    """Append a card skeleton with a fresh unique id to the right topic file."""
    col = load_collection(config)
    taken = {c.id for c in col.cards} | read_lock(config).card_ids | set(col.retired)
    path, line, card_id = add_card(config, col, taken, tag, question, file, kind, reverse)
    todo = "mark its clozes" if kind == "cloze" else "write its answer"
    click.echo(f"{config.rel(path)}:{line}: added card '{card_id}'; {todo}, then run `ankibuild check`")


@main.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", "deck_name", help="The deck's name in Anki (default: from the folder's name).")
def init_cmd(folder, deck_name) -> None:
    """Start a new deck project in FOLDER, with its own fresh identity."""
    from .init import init_project  # only this command needs it (and `secrets`): keep start-up short

    written = init_project(folder, deck_name)
    shown = folder.resolve()
    click.echo(f"New deck project in {shown} ({len(written)} files). Next:")
    click.echo(f"  cd {shown} && ankibuild check && ankibuild   # builds dist/*.apkg for Anki's File → Import…")
    click.echo("Keep the identity values in pyproject.toml as they are, forever: learners' notes are matched by them.")


@main.command("changes")
@click.option("--since", "since", default=None, help="Git ref to compare with (default: the latest v* release tag).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    help="markdown (release notes) or json.",
)
@click.pass_obj
def changes_cmd(config, since, fmt) -> None:
    """Cards added, changed and retired since a git ref (release notes)."""
    from .changes import changes, render_json, render_markdown

    cs = changes(config, since)
    click.echo(render_json(cs) if fmt == "json" else render_markdown(cs, f"Changes since {cs.since}"))


@main.command("release")
@click.option("--version", "version", default=None, help="Release version (default: the v<version> tag on HEAD).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Render with this many processes (default: all cores).")
@click.pass_obj
def release_cmd(config, version, jobs) -> None:
    """Write a release into dist/release/: versioned full and per-topic packages, CHANGES.md, SHA256SUMS."""
    from .release import make_release

    done = make_release(config, version, jobs)
    click.echo(f"Release {done.version} ({done.date}; {done.changes.summary()}) → {config.rel(done.folder)}/")
    for path in done.files:
        click.echo(f"  {path.name}")


if __name__ == "__main__":
    main()
