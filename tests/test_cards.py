"""The real card collection: builds, passes the strict check, covers every seed question."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

from builder.build import build
from builder.cache import RenderCache
from builder.cards import load_collection
from builder.check import prose_only, run_checks
from builder.config import load_config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import coverage  # noqa: E402

COLLECTION = load_collection(load_config(ROOT))


@pytest.fixture(scope="module")
def real_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's cards in a scratch folder, so building never touches the committed lock."""
    root = tmp_path_factory.mktemp("real")
    for name in ("cards", "media"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_real_collection_passes_strict_check() -> None:
    report = run_checks(load_config(ROOT))
    assert report.findings == [], report.render()
    assert report.cards >= 300


def test_every_card_builds(real_copy: Path) -> None:
    result = build(load_config(real_copy), out=real_copy / "all.apkg", cache=RenderCache(None))
    assert result.built == len(COLLECTION.cards)


def test_every_python_block_parses() -> None:
    blocks = 0
    for card in COLLECTION.cards:
        for text in (card.question, card.answer, card.text, card.extra):
            for _offset, lang, code, _info in prose_only(text)[1]:
                if lang in ("python", "py", "python3"):
                    ast.parse(code, filename=card.id)
                    blocks += 1
    assert blocks >= 30  # the deck teaches with code; this would catch fences silently lost


def test_compression_tag_selects_compression_cards_only(real_copy: Path) -> None:
    from builder.build import select

    chosen = select(COLLECTION.cards, COLLECTION.registry.tags, ["compression"])
    assert len(chosen) >= 20
    assert all(any(t == "compression" or t.startswith("compression::") for t in c.tags) for c in chosen)
    ids = {c.id for c in chosen}
    assert "int8-vs-fp16-inference-speed" in ids  # 003:10, INT8 vs FP16
    for kind in ("quantization", "pruning", "distillation"):
        assert any(f"compression::{kind}" in c.tags for c in chosen), kind


def test_every_seed_question_is_covered() -> None:
    index = coverage.read_index()
    assert {p: sum(q.startswith(p) for q in index) for p in coverage.EXPECTED_COUNTS} == coverage.EXPECTED_COUNTS
    cited = coverage.cited_sources(ROOT / "cards")
    assert [q for q in index if q not in cited] == []


@pytest.mark.skipif(not coverage.SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_committed_seed_index_matches_the_seed_documents() -> None:
    assert [qid for qid, _q in coverage.parse_seeds(coverage.SEEDS)] == coverage.read_index()


def test_the_project_carries_no_seed_sentences() -> None:
    # Only ids are committed; the text of the seed questions stays in the seed documents.
    for path in (ROOT / "seeds").iterdir():
        assert path.read_text(encoding="utf-8").isascii(), f"{path} holds text beyond question ids"


def test_every_topic_of_the_topic_map_has_real_cards() -> None:
    areas = coverage.read_topics()
    assert coverage.topic_problems(areas, {c.id for c in COLLECTION.cards}) == []
