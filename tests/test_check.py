"""`ankibuild check`: each rule tripped by a fixture, asserted at its exact place and message."""
# ruff: noqa: E501 - expected output is one finding per line, as users see it

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from builder.check import near_duplicates
from tests.conftest import Project, copy_fixture

EXPECTED = r"""
cards/ankibuild.lock:4: warning: card 'gone-card': was built before but is gone from the cards; renaming an id makes a new card and strands every learner's review history of the old one (if renamed, restore the old id; if deleted on purpose, add 'gone-card: reason' to cards/retired.yaml)
cards/rules.yaml:9: card 'bad-python': Python code does not parse: invalid syntax (line 1 of the block) (fix the code, or fence it as ```text if it is not meant to run)
cards/rules.yaml:15: warning: card 'no-lang': code fence without a language (write ```python, ```bash, ```text …)
cards/rules.yaml:21: warning: card 'unknown-lang': unknown code language 'pyhton' (did you mean 'python'?)
cards/rules.yaml:27: card 'unclosed-math': inline math '\(' is never closed (add '\)')
cards/rules.yaml:28: card 'unclosed-math': display math '\[' is never closed (add '\]')
cards/rules.yaml:29: card 'unclosed-math': '$' opens math that is never closed (close it with '$', or write \$ for a dollar sign)
cards/rules.yaml:30: card 'unclosed-math': braces do not balance inside the formula (match every '{' with a '}'; write \{ for a literal brace)
cards/rules.yaml:34: card 'html-broken': <b> is never closed (add </b>)
cards/rules.yaml:35: card 'html-broken': </i> closes a tag that was never opened (remove it or add <i>)
cards/rules.yaml:38: card 'images': image 'nope.png' not found in media/ (did you mean 'unused.png'?)
cards/rules.yaml:39: card 'reused-id': id was retired (cards/retired.yaml:2) and may not be reused (choose a new id)
cards/rules.yaml:46: warning: card 'big-vs-small-two': question is nearly the same as card 'big-vs-small-one' (cards/rules.yaml:43, similarity 0.79) (merge the two cards and list both sources, or make the questions ask different things)
cards/rules.yaml:58: card 'glued-list': list starts right after a paragraph line, so it renders as plain text (add a blank line before the list)
cards/rules.yaml:65: card 'talks-about-source': 'seed' refers to the material the card was written from, which the learner never sees (say it for the learner, e.g. '常见错误说法：… 实际上 …'; keep provenance in 'source')
cards/rules.yaml:67: card 'talks-about-source': '原文' refers to the material the card was written from, which the learner never sees (say it for the learner, e.g. '常见错误说法：… 实际上 …'; keep provenance in 'source')
cards/rules.yaml:71: warning: card 'stale-fact': as_of 2020-01 is {age} months old (more than 12) (re-verify the card's dated facts, then set as_of to this month)
media/unused.png:1: warning: file is not used by any card (reference it from a card, or delete it)
FAILED: 14 cards in 1 files, 12 error(s), 6 warning(s)
"""


@pytest.fixture
def lint(tmp_path: Path) -> Project:
    return copy_fixture("lint", tmp_path / "lint")


def test_every_rule_reports_its_place_and_fix(lint: Project) -> None:
    result = lint.run("check", ok=False)
    assert result.exit_code == 1
    today = datetime.date.today()
    age = today.year * 12 + today.month - 1 - 2020 * 12  # as_of 2020-01
    assert result.output == EXPECTED.lstrip("\n").replace("{age}", str(age))


def test_github_format_annotates_each_finding(lint: Project) -> None:
    out = lint.run("check", "--format", "github", ok=False).output.splitlines()
    assert out[1] == (
        "::error file=cards/rules.yaml,line=9,title=ankibuild code::card 'bad-python': Python code does not parse: "
        "invalid syntax (line 1 of the block) (fix the code, or fence it as ```text if it is not meant to run)"
    )
    assert out[2].startswith("::warning file=cards/rules.yaml,line=15,title=ankibuild code::card 'no-lang'")
    assert len([line for line in out if line.startswith("::")]) == len(EXPECTED.strip().splitlines()) - 1


def test_warnings_pass_unless_strict(lint: Project) -> None:
    # Keep only the warning-level problems.
    rules = lint.root / "cards" / "rules.yaml"
    text = rules.read_text()
    keep = text.split("  - id: unclosed-math")[0].replace("def f(:", "def f():")
    rules.write_text(keep)
    (lint.root / "cards" / "retired.yaml").unlink()
    assert lint.run("check").output.endswith("OK: 3 cards in 1 files, 0 error(s), 6 warning(s)\n")
    strict = lint.run("check", "--strict", ok=False)
    assert strict.exit_code == 1
    assert strict.output.endswith("FAILED: 3 cards in 1 files, 0 error(s), 6 warning(s)\n")


def test_warnings_do_not_block_a_build(lint: Project) -> None:
    rules = lint.root / "cards" / "rules.yaml"
    rules.write_text(rules.read_text().split("  - id: unclosed-math")[0].replace("def f(:", "def f():"))
    (lint.root / "cards" / "retired.yaml").unlink()
    assert "Built 3 cards" in lint.run().output


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("如何优化AI大模型的推理性能？", "如何优化AI大模型的推理性能？"),  # 002 asks this four times
        (
            "请比较大模型和小型模型在性能和资源占用方面的优缺点。",
            "请对比大模型和小型模型在性能和资源占用方面的优缺点。",
        ),  # 001:13 / 001:19
        (
            "请讨论大模型训练过程中数据的安全与隐私保护。",
            "请解释如何保护大模型训练过程中数据的安全与隐私？",
        ),  # 001:11 / 001:6
        ("How do you handle label noise in training data?", "How to handle label noise in the training data?"),
    ],
)
def test_near_duplicates_flag_the_seed_repeats(a: str, b: str) -> None:
    assert [(i, j) for i, j, _ in near_duplicates([a, b])] == [(0, 1)]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("什么是数据并行？", "什么是模型并行？"),
        ("INT8 量化的 scale 怎么算？", "INT8 和 FP16 推理速度谁快？"),
        ("什么是 prefix LM？", "什么是 causal LM？"),
    ],
)
def test_near_duplicates_leave_different_questions_alone(a: str, b: str) -> None:
    assert list(near_duplicates([a, b])) == []
