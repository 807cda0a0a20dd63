"""`ankibuild release`: the files of one release, reproducibly, into dist/release/.

The full package named with its version, one package per top-level topic tag (the same
identities, so a learner can start with a topic and import the full deck later without
duplicates), CHANGES.md and SHA256SUMS. The same commit gives the same bytes on any machine:
new mods and the release date come from the commit's time, and the lock must already be up to
date (a release never gives a note a new mod; `ankibuild` and a commit of the lock do).
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .build import BuildResult, build
from .cache import RenderCache
from .cards import load_collection
from .changes import ChangeSet, _git, changes, git_root, render_markdown
from .config import Config
from .errors import AnkibuildError
from .package import write_atomic


@dataclass(frozen=True)
class Release:
    version: str
    date: str
    folder: Path
    files: list[Path]
    changes: ChangeSet


def release_version(config: Config, explicit: str | None = None) -> str:
    """--version, else the v-tag on HEAD, else the project's own version."""
    if explicit:
        return explicit.removeprefix("v")
    try:
        return _git(config, "describe", "--tags", "--exact-match", "--match", "v[0-9]*", "HEAD").strip()[1:]
    except AnkibuildError:
        pass
    import tomllib

    project = tomllib.loads(config.path("pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    if isinstance(project.get("version"), str):
        return project["version"]
    raise AnkibuildError("no version: tag HEAD as v<version>, or pass --version")


def commit_epoch(config: Config) -> int:
    """SOURCE_DATE_EPOCH when set, else HEAD's commit time: the same on every machine."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        from .lock import build_time

        return build_time()
    return int(_git(config, "log", "-1", "--format=%ct", "HEAD").strip())


def previous_release(config: Config, version: str) -> str | None:
    """The newest release tag before this one (None for a first release)."""
    tags = _git(config, "tag", "--merged", "HEAD", "--list", "v[0-9]*", "--sort=-creatordate").split()
    return next((t for t in tags if t != f"v{version}"), None)


def _first_release(config: Config) -> ChangeSet:
    return ChangeSet(since="the start", added=list(load_collection(config).cards))


def make_release(config: Config, version: str | None = None, jobs: int | None = None) -> Release:
    git_root(config)
    version = release_version(config, version)
    epoch = commit_epoch(config)
    date = datetime.datetime.fromtimestamp(epoch, datetime.UTC).date().isoformat()
    since = previous_release(config, version)
    cs = changes(config, since) if since else _first_release(config)
    description = "\n".join(
        part for part in (config.deck_description, f"Version {version} · {date} · {cs.summary()}") if part
    )
    folder = config.path(config.out_dir) / "release"
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    files: list[Path] = []
    cache = RenderCache(None)
    try:
        full = folder / f"{config.package_name}-{version}.apkg"
        results: list[BuildResult] = [
            build(config, out=full, cache=cache, jobs=jobs, description=description, frozen=True)
        ]
        files.append(full)
        col = load_collection(config)
        used = {tag.split("::")[0] for card in col.cards for tag in card.tags}
        for topic in sorted(t for t in col.registry.tags if "::" not in t and t in used):
            out = folder / f"{config.package_name}-{topic}-{version}.apkg"
            results.append(
                build(config, [topic], out=out, cache=cache, jobs=jobs, description=description, frozen=True)
            )
            files.append(out)
    finally:
        cache.close()
        if previous_epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous_epoch
    # Only this release's files stay in the folder: CI attaches everything in it.
    for stale in folder.iterdir():
        if stale.is_file() and stale not in files and stale.name not in ("CHANGES.md", "SHA256SUMS"):
            stale.unlink()
    notes = render_markdown(cs, f"{config.deck_name} {version} ({date})")
    write_atomic(folder / "CHANGES.md", notes.encode("utf-8"))
    files.append(folder / "CHANGES.md")
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in files)
    write_atomic(folder / "SHA256SUMS", sums.encode())
    files.append(folder / "SHA256SUMS")
    return Release(version, date, folder, files, cs)
