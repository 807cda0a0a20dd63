"""Render cache and parallel rendering: behaviour, never timings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from builder import build as build_module
from builder import cards as cards_module
from builder import render
from builder.build import build
from builder.cache import RenderCache
from builder.config import load_config
from tests.conftest import Project, copy_fixture


def run(project: Project, cache_dir: Path | None, **kwargs):
    cache = RenderCache(cache_dir)
    try:
        return build(load_config(project.root), cache=cache, **kwargs), cache
    finally:
        cache.close()


def entries(cache_dir: Path) -> int:
    with sqlite3.connect(cache_dir / "render-cache.sqlite3") as db:
        return db.execute("select count(*) from entries").fetchone()[0]


def test_miss_then_hit_then_one_miss_after_an_edit(project: Project, tmp_path: Path) -> None:
    _, cache = run(project, tmp_path / "c")
    assert (cache.hits, cache.misses) == (0, 4)
    result, cache = run(project, tmp_path / "c")
    assert result.up_to_date  # nothing changed: the build is skipped entirely
    project.edit("cards/attention.yaml", "Write scaled", "Write the scaled")
    result, cache = run(project, tmp_path / "c")
    assert not result.up_to_date and (cache.hits, cache.misses) == (3, 1)


def test_renderer_setting_change_invalidates_every_entry(project: Project, tmp_path: Path, monkeypatch) -> None:
    run(project, tmp_path / "c")
    monkeypatch.setattr(render, "MARKDOWN_EXTENSIONS", (*render.MARKDOWN_EXTENSIONS, "nl2br"))
    _, cache = run(project, tmp_path / "c", out=tmp_path / "x.apkg")
    assert (cache.hits, cache.misses) == (0, 4)
    monkeypatch.setattr(render, "RENDERER_REVISION", "test")
    _, cache = run(project, tmp_path / "c", out=tmp_path / "y.apkg")
    assert (cache.hits, cache.misses) == (0, 4)


def test_damaged_entry_is_ignored_never_shipped(project: Project, tmp_path: Path) -> None:
    clean = run(project, None, out=tmp_path / "clean.apkg")[0].out.read_bytes()
    run(project, tmp_path / "c", out=tmp_path / "first.apkg")
    with sqlite3.connect(tmp_path / "c" / "render-cache.sqlite3") as db:
        db.execute("""update entries set value = '["<p>poisoned</p>","","","",""]'""")  # checksum no longer matches
    result, cache = run(project, tmp_path / "c", out=tmp_path / "again.apkg")
    assert (cache.hits, cache.corrupt) == (0, 4)
    assert result.out.read_bytes() == clean


def test_damaged_database_file_does_not_break_the_build(project: Project, tmp_path: Path, caplog) -> None:
    clean = run(project, None, out=tmp_path / "clean.apkg")[0].out.read_bytes()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "render-cache.sqlite3").write_bytes(b"this is not a database" * 100)
    result, _cache = run(project, tmp_path / "c", out=tmp_path / "out.apkg")
    assert result.out.read_bytes() == clean
    assert "render cache" in caplog.text


def test_cache_drops_least_recently_used_past_its_bound(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path, max_entries=3)
    cache.put_many({"a": ["1"], "b": ["2"]})
    cache.close()
    cache = RenderCache(tmp_path, max_entries=3)  # a later build: a, b are older
    assert cache.get_many(["a"]) == {"a": ("1",)}  # a is used again
    cache.put_many({"c": ["3"], "d": ["4"]})
    assert entries(tmp_path) == 3
    assert set(cache.get_many(["a", "b", "c", "d"])) == {"a", "c", "d"}
    cache.close()


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_rendering_gives_identical_bytes(project: Project, tmp_path: Path, monkeypatch, jobs: int) -> None:
    monkeypatch.setattr(build_module, "PARALLEL_MIN", 1)  # use workers even for 4 cards
    serial = run(project, None, out=tmp_path / "serial.apkg", jobs=1)[0].out.read_bytes()
    parallel = run(project, None, out=tmp_path / "parallel.apkg", jobs=jobs)[0].out.read_bytes()
    assert parallel == serial


def test_subset_build_renders_only_the_cards_it_packages(project: Project, tmp_path: Path) -> None:
    _, cache = run(project, tmp_path / "c", tags=["compression"], out=tmp_path / "s.apkg")
    assert cache.misses == 2
    assert entries(tmp_path / "c") == 2


def test_up_to_date_check_notices_a_changed_lock_or_output(project: Project, tmp_path: Path) -> None:
    first, _ = run(project, tmp_path / "c")
    lock = project.root / "cards" / "ankibuild.lock"
    lock.write_text(lock.read_text().replace("int8-scale", "int8-scale-gone"))
    result, _ = run(project, tmp_path / "c")
    assert not result.up_to_date and result.added == 1  # int8-scale is new again to this lock
    result, _ = run(project, tmp_path / "c")
    assert result.up_to_date
    first.out.write_bytes(b"damaged")
    result, _ = run(project, tmp_path / "c")
    assert not result.up_to_date and result.out.read_bytes() != b"damaged"


# --- parse cache: an unchanged card file is not parsed again ------------------------------------


def load_counting(project: Project, cache_dir: Path, monkeypatch) -> tuple[list, list[str]]:
    """Load the collection with a cache; returns the cards and the files that were parsed."""
    parsed: list[str] = []
    real = cards_module.parse_card_file

    def counting(text, rel, findings):
        parsed.append(rel)
        return real(text, rel, findings)

    monkeypatch.setattr(cards_module, "parse_card_file", counting)
    cache = RenderCache(cache_dir)
    try:
        col = cards_module.load_collection(load_config(project.root), cache)
    finally:
        cache.close()
    return col, parsed


def card_state(cards) -> list[tuple]:
    return [(c, dict(c.lines), dict(c.starts)) for c in cards]


def test_unchanged_files_are_not_parsed_again(project: Project, tmp_path: Path, monkeypatch) -> None:
    fresh, parsed = load_counting(project, tmp_path / "c", monkeypatch)
    assert parsed == ["cards/attention.yaml", "cards/compression.yaml"]
    cached, parsed = load_counting(project, tmp_path / "c", monkeypatch)
    assert parsed == []
    assert card_state(cached.cards) == card_state(fresh.cards)  # lines for error messages included
    project.edit("cards/attention.yaml", "Write scaled", "Write the scaled")
    edited, parsed = load_counting(project, tmp_path / "c", monkeypatch)
    assert parsed == ["cards/attention.yaml"]
    assert edited.cards[0].question == "Write the scaled dot-product attention."


def test_damaged_or_foreign_parse_entries_are_parsed_again(project: Project, tmp_path: Path, monkeypatch) -> None:
    fresh, _ = load_counting(project, tmp_path / "c", monkeypatch)
    with sqlite3.connect(tmp_path / "c" / "render-cache.sqlite3") as db:
        db.execute("update parsed set value = '[]'")  # checksum no longer matches
    again, parsed = load_counting(project, tmp_path / "c", monkeypatch)
    assert len(parsed) == 2 and card_state(again.cards) == card_state(fresh.cards)
    monkeypatch.setattr(cards_module, "PARSER_FINGERPRINT", "a different loader")
    _, parsed = load_counting(project, tmp_path / "c", monkeypatch)
    assert len(parsed) == 2


def test_a_broken_file_is_reported_on_every_run(project: Project, tmp_path: Path) -> None:
    project.edit("cards/attention.yaml", "  question: Write scaled", "  questoin: Write scaled")
    for _ in range(2):
        result = project.run("check", ok=False)
        assert result.exit_code != 0
        assert "cards/attention.yaml:3: card 'attention-formula': unknown key 'questoin'" in result.output


def test_cloze_and_reverse_cards_are_cached_like_basic_ones(tmp_path: Path) -> None:
    project = copy_fixture("notetypes", tmp_path / "typed")
    _, cache = run(project, tmp_path / "c")
    assert (cache.hits, cache.misses) == (0, 3)  # three cards; the reverse note reuses its card's fields
    project.edit("cards/examples.yaml", "At \\(T = 1\\) it is", "At \\(T = 1\\) it is exactly")
    result, cache = run(project, tmp_path / "c")
    assert (cache.hits, cache.misses) == (2, 1) and result.changed == 1
