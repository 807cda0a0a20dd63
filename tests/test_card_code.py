"""Every Python block on the real cards runs (or, when it needs a GPU, weights or the network, has its
imports and API paths resolved), and prints what the card claims. See tests/cardcode.py."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from builder.cards import load_collection
from builder.config import load_config
from tests import cardcode

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = cardcode.python_blocks(load_collection(load_config(ROOT)).cards)
RUN = [b for b in BLOCKS if not b.needs]
CHECK = [b for b in BLOCKS if b.needs]
TIMEOUT = 120  # seconds per block: the slowest toy training loop takes a few


@pytest.fixture(scope="module")
def pool():
    # A fresh process per block, forked from a server that has already imported the heavy
    # libraries: isolation without paying torch's import for every block.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["numpy", "torch", "tests.cardcode"])
    with ProcessPoolExecutor(2, mp_context=ctx, max_tasks_per_child=1) as executor:
        yield executor


def test_the_deck_has_code_to_run() -> None:
    assert len(RUN) >= 30
    counts = Counter(need for b in CHECK for need in b.needs)
    assert all(need in cardcode.NEEDS or need.isidentifier() for need in counts), counts


@pytest.mark.parametrize("block", RUN, ids=[b.name for b in RUN])
def test_block_runs_and_prints_what_the_card_claims(pool, block: cardcode.Block) -> None:
    ok, out = pool.submit(cardcode.run_block, block.code).result(timeout=TIMEOUT)
    assert ok, f"{block.name} failed:\n{out}\n(if it needs a GPU, weights or the network, fence it ```python needs=…)"
    assert cardcode.expected_matches(block, out), f"{block.name} printed:\n{out}\nthe card claims:\n{block.expected}"


@pytest.mark.parametrize("block", CHECK, ids=[b.name for b in CHECK])
def test_block_that_cannot_run_here_uses_real_apis(pool, block: cardcode.Block) -> None:
    _status, problems = pool.submit(cardcode.api_check, block.code, block.needs).result(timeout=TIMEOUT)
    assert problems == [], f"{block.name}: {problems}"
