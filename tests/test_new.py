"""`ankibuild new`: a skeleton with a fresh readable id, appended without disturbing the file."""

from __future__ import annotations

import yaml

from builder.new import fresh_id, slugify
from tests.conftest import Project


def test_appends_to_the_topic_file_keeping_comments_and_formatting(project: Project) -> None:
    path = project.root / "cards" / "compression.yaml"
    before = path.read_text()
    out = project.run("new", "--tags", "compression::quantization", "-q", "什么是 KV cache 的 INT8 量化？").output
    assert out.startswith("cards/compression.yaml:16: added card 'kv-cache-int8';")
    after = path.read_text()
    assert after.startswith(before)  # the comment line and every byte before stay as written
    assert after[len(before) :] == (
        "  - id: kv-cache-int8\n"
        "    tags: [compression::quantization]\n"
        "    question: |\n"
        "      什么是 KV cache 的 INT8 量化？\n"
        "    answer: |\n"
        "    # extra: |   (optional: the why, a pitfall, the interviewer's follow-up)\n"
        "    source: []\n"
    )
    card = yaml.safe_load(after)["cards"][-1]
    assert card["id"] == "kv-cache-int8" and card["answer"] == ""


def test_skeleton_fails_check_until_the_answer_is_written(project: Project) -> None:
    project.run("new", "--tags", "compression::pruning", "-q", "What is magnitude pruning?")
    result = project.run("check", ok=False)
    assert (
        "cards/compression.yaml:20: card 'what-is-magnitude-pruning': 'answer' is empty (write the answer)"
        in result.output
    )
    path = project.root / "cards" / "compression.yaml"
    head, _, tail = path.read_text().rpartition("    answer: |\n")
    path.write_text(head + "    answer: |\n      Remove the smallest weights.\n" + tail)
    assert project.run("check").exit_code == 0


def test_ids_are_unique_across_cards_and_lock(project: Project) -> None:
    project.build()
    (project.root / "cards" / "attention.yaml").write_text("")  # attention-* ids now live only in the lock
    out = project.run("new", "--tags", "fundamentals", "-q", "attention formula").output
    assert "added card 'attention-formula-2'" in out


def test_file_option_and_new_file(project: Project) -> None:
    out = project.run("new", "--tags", "compression::pruning", "--file", str(project.root / "cards/p/new.yaml")).output
    assert out.startswith("cards/p/new.yaml:3: added card 'pruning-card';")
    data = yaml.safe_load((project.root / "cards/p/new.yaml").read_text())
    assert data["tags"] == ["compression::pruning"] and data["cards"][0]["id"] == "pruning-card"


def test_unknown_tag_is_refused(project: Project) -> None:
    result = project.run("new", "--tags", "compresion", ok=False)
    assert "unknown tag 'compresion' (did you mean 'compression'?)" in result.output


def test_slug_and_fresh_id() -> None:
    assert slugify("什么是 KV cache？") == "kv-cache"
    assert slugify("纯中文问题") == ""
    assert fresh_id("纯中文问题", "compression::quantization", set()) == "quantization-card"
    assert fresh_id("KV cache", "x", {"kv-cache", "kv-cache-2"}) == "kv-cache-3"


def test_new_cloze_card_skeleton_fails_check_until_it_has_a_cloze(project: Project) -> None:
    out = project.run(
        "new", "--tags", "compression::pruning", "--type", "cloze", "-q", "Pruning removes weights."
    ).output
    assert out.startswith("cards/compression.yaml:16: added card 'pruning-removes-weights'; mark its clozes")
    text = (project.root / "cards" / "compression.yaml").read_text()
    assert text.endswith(
        "  - id: pruning-removes-weights\n"
        "    type: cloze\n"
        "    tags: [compression::pruning]\n"
        "    text: |\n"
        "      Pruning removes weights.\n"
        "    # extra: |   (optional: the why, a pitfall; shown under the text)\n"
        "    source: []\n"
    )
    result = project.run("check", ok=False)
    assert "cards/compression.yaml:20: card 'pruning-removes-weights': a cloze card has no cloze" in result.output
    project.edit("cards/compression.yaml", "Pruning removes weights.", "Pruning removes {{c1::weights}}.")
    assert project.run("check").exit_code == 0
    card = yaml.safe_load((project.root / "cards" / "compression.yaml").read_text())["cards"][-1]
    assert card["type"] == "cloze" and card["text"] == "Pruning removes {{c1::weights}}.\n"


def test_new_cloze_id_ignores_the_markers(project: Project) -> None:
    out = project.run("new", "--tags", "fundamentals", "--type", "cloze", "-q", "{{c1::Softmax::which?}} turns logits")
    assert "added card 'softmax-turns-logits'" in out.output


def test_new_reverse_card(project: Project) -> None:
    project.run("new", "--tags", "fundamentals", "--reverse", "-q", "KV cache")
    card = yaml.safe_load((project.root / "cards" / "attention.yaml").read_text())[-1]
    assert card == {
        "id": "kv-cache",
        "tags": ["fundamentals"],
        "reverse": True,
        "question": "KV cache\n",
        "answer": "",
        "source": [],
    }
    result = project.run("new", "--tags", "fundamentals", "--reverse", "--type", "cloze", ok=False)
    assert result.exit_code == 1 and "--reverse is for basic cards" in result.output
