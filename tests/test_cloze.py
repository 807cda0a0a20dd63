# ruff: noqa: E501 - expected output is one finding per line, as users see it
"""Cloze cards: Anki's own reading of the markers, the check rules, rendering and packaging.

Anki renders clozes itself, so what counts is the HTML Anki produces: `builder.cloze` is compared
with real Anki (the `anki` package) on every form the rules and the preview rely on.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cloze import numbers, parse, reveal
from tests.ankiclient import Learner
from tests.conftest import Project, copy_fixture, guid

ROOT = Path(__file__).resolve().parent.parent

ANKI_FORMS = [
    "a {{c1::b}} c {{c2::d::hint}}",
    "{{c1::std::vector}}",  # the first '::' starts the hint, even in code
    r"\(x = {{c1::y}}\)",  # inside MathJax: no <span>, only the blank
    r"\(a {{c1::b}} {{c2::e::h}}\) {{c2::\(d\)}} \[{{c1::f}}\]",
    "{{c1::outer {{c2::inner}} more}}",
    "{{c1::a {{c2::b::h2}} x::h1}}",
    "{{c1::a}} b}} {{c2::c {{c1::d}} e::h}}",
    '{{c1::a <b>&amp;</b> "q" 中文 é ’ _-.,;!?()[]{} /\\ =+* \'x}}',
    "{{c1::a::}} {{c2::a::b::c}}",
    "{{c1::a\nb}} x {{c2::}}",
    "x {{c1::a}} {{c1::b {{c2::q",  # an unclosed opener: Anki drops the rest
    "{{c12::twelve}}",
    '<p>x</p>\n{{c1::\n<div class="highlight"><pre><code>k = 1\n</code></pre></div>\n::code}}',
]


@pytest.fixture(scope="module")
def anki_cloze() -> Collection:
    """A collection with a cloze note type whose templates are just {{cloze:Text}}."""
    col = Collection(os.path.join(tempfile.mkdtemp(), "collection.anki2"))
    model = col.models.by_name("Cloze")
    for template in model["tmpls"]:
        template["qfmt"] = template["afmt"] = "{{cloze:Text}}"
    col.models.update_dict(model)
    yield col
    col.close()


@pytest.mark.parametrize("text", ANKI_FORMS)
def test_cloze_reading_matches_real_anki(anki_cloze: Collection, text: str) -> None:
    note = anki_cloze.new_note(anki_cloze.models.by_name("Cloze"))
    note["Text"] = text
    anki_cloze.add_note(note, anki_cloze.decks.id("Cloze test"))
    cards = note.cards()
    if numbers(text):
        assert [c.ord + 1 for c in cards] == numbers(text)
    for card in cards:
        for question, html in ((True, card.question()), (False, card.answer())):
            if "No cloze" in html:
                continue
            assert html.split("</style>")[-1] == reveal(text, card.ord + 1, question)


def test_closing_braces_inside_math_end_the_cloze_in_anki(anki_cloze: Collection) -> None:
    """The bug the check rule catches: Anki's own HTML for it is broken (raw `}}`, no closing span)."""
    text = r"{{c1::\(\frac{1}{x^{2}}\)}}"
    note = anki_cloze.new_note(anki_cloze.models.by_name("Cloze"))
    note["Text"] = text
    anki_cloze.add_note(note, anki_cloze.decks.id("Cloze test"))
    back = note.cards()[0].answer().split("</style>")[-1]
    assert back.endswith(r"x^{2\)}}") and "</span>" not in back
    [c] = parse(text).clozes
    assert text[c.close :] == r"}}\)}}"  # it ends inside the formula


# --- check rules ---------------------------------------------------------------------------------


def findings(project: Project, cards_yaml: str) -> list[str]:
    project.write("cards/more.yaml", "tags: [llm]\ncards:\n" + cards_yaml)
    out = project.run("check", ok=False).output.splitlines()
    mine = [line.removeprefix("cards/more.yaml:") for line in out if line.startswith("cards/more.yaml:")]
    return [line for line in mine if "warning:" not in line]


@pytest.fixture
def typed(tmp_path: Path) -> Project:
    return copy_fixture("notetypes", tmp_path / "proj")


def card(card_id: str, text: str) -> str:
    body = "\n".join("      " + line for line in text.split("\n"))
    return f"  - id: {card_id}\n    type: cloze\n    text: |\n{body}\n"


def test_cloze_rules_name_the_place_and_the_fix(typed: Project) -> None:
    got = findings(
        typed,
        card("no-cloze", "Nothing to hide.")
        + card("c0-and-gap", "{{c0::zero}} {{c1::one}} {{c3::three}}")
        + card("frac", r"Scale: {{c1::\(\frac{1}{x^{2}}\)}}")
        + card("code-braces", 'A dict: {{c1::`{"a": {"b": 1}}`}}')
        + card("code-colons", "Type: {{c1::`std::vector`}}")
        + card("unclosed", "{{c1::open")
        + card("paragraphs", "{{c1::one\n\ntwo}}")
        + card("in-fence", "```text\nx = {{c1::1}}\n```")
        + card("cross-math", r"\(a {{c1::b\) c}}")
        + "  - id: basic-with-marker\n    question: What is {{c1::this}}?\n    answer: An error.\n",
    )
    assert got == [
        "6: card 'no-cloze': a cloze card has no cloze (mark what to recall as {{c1::…}} (and {{c2::…}} for a second card))",
        "10: card 'c0-and-gap': 'c0' is not a cloze number, so it makes no card (number clozes from c1)",
        "10: card 'c0-and-gap': cloze numbers skip c2 (used: c1, c3) (number clozes without gaps, c1, c2, …: each number is one card)",
        "14: card 'frac': '}}' inside the formula ends cloze c1 early (Anki ends a cloze at the first '}}') (write '} }' with a space inside the formula)",
        "18: card 'code-braces': '}}' inside the code ends cloze c1 early (Anki ends a cloze at the first '}}') (write '} }' with a space, or keep that code out of the cloze)",
        "22: card 'code-colons': '::' inside the code starts cloze c1's hint, so Anki hides only the text before it (keep '::' out of the cloze (a hint comes last: {{c1::answer::hint}}))",
        "26: card 'unclosed': cloze '{{c1::' is never closed, so Anki shows no cloze (add '}}' where it ends)",
        "30: card 'paragraphs': cloze c1 spans paragraphs or a code block, which breaks its HTML in Anki (write '{{c1::' and '}}' on lines of their own around the block, or keep the cloze inside one paragraph)",
        "37: card 'in-fence': cloze c1 is inside a code block, where highlighting splits it so Anki cannot see it (put the whole block in the cloze ('{{c1::' and '}}' on lines of their own around it), or use inline code)",
        "42: card 'cross-math': braces do not balance inside the formula (match every '{' with a '}'; write \\{ for a literal brace)",
        "42: card 'cross-math': cloze c1 starts inside a formula and ends outside it (put the whole formula inside the cloze, or the cloze inside the formula)",
        "44: card 'basic-with-marker': cloze marker '{{c1::' in the basic card's 'question' would show as typed (make it a cloze card: type: cloze, with the text in 'text:')",
    ]


def test_yaml_form_errors(typed: Project) -> None:
    got = findings(
        typed,
        "  - id: cloze-with-question\n    type: cloze\n    text: '{{c1::x}}'\n    question: q\n"
        "  - id: basic-with-text\n    question: Which key?\n    answer: a\n    text: t\n"
        "  - id: typo-type\n    type: clozee\n    text: '{{c1::x}}'\n"
        "  - id: reverse-not-bool\n    question: Flipped how?\n    answer: a\n    reverse: yes please\n",
    )
    assert got == [
        "6: card 'cloze-with-question': 'question' belongs to basic cards, and this card is cloze (a cloze card has 'text' with {{c1::…}} (and optional 'extra'))",
        "10: card 'basic-with-text': 'text' belongs to cloze cards, and this card is basic (write 'type: cloze' for a cloze card, or use question/answer)",
        "12: card 'typo-type': unknown card type 'clozee' (did you mean 'cloze'?)",
        "17: card 'reverse-not-bool': 'reverse' must be true or false, got a value (write reverse: true)",
    ]


def test_the_build_refuses_what_check_rejects(typed: Project) -> None:
    typed.write("cards/more.yaml", "tags: [llm]\ncards:\n" + card("frac", r"{{c1::\(\frac{1}{x^{2}}\)}}"))
    result = typed.run(ok=False)
    assert result.exit_code == 1
    assert "'}}' inside the formula ends cloze c1 early" in result.output
    assert not (typed.root / "dist").exists()


# --- packaging: one note, one card per cloze number, in real Anki ------------------------------


def test_a_cloze_note_makes_one_card_per_number_in_anki(typed: Project, tmp_path: Path) -> None:
    typed.write(
        "cards/more.yaml", "tags: [llm]\ncards:\n" + card("nested", "{{c1::outer {{c2::inner}} and {{c3::more}}}}")
    )
    learner = Learner(tmp_path / "anki" / "collection.anki2")
    try:
        log = learner.import_apkg(typed.build())
        assert (log.new, log.conflicting) == (5, 0)  # 3 cards + 1 reverse note + this one
        note = learner.note(guid("nested", fixture="notetypes"))
        assert sorted(c.ord for c in note.cards()) == [0, 1, 2]  # genanki's own regex would miss c2
        assert note.note_type()["type"] == 1  # Anki's cloze kind
        assert len(learner.note(guid("kv-cache-append", fixture="notetypes")).cards()) == 2
    finally:
        learner.close()


# --- the documented forms: what contributors copy must pass `check` and build ---------------------


def doc_examples(path: Path, heading: str) -> list[dict]:
    import yaml

    section = re.split(r"\n#{2,3} ", path.read_text(encoding="utf-8").split(heading, 1)[1], maxsplit=1)[0]
    blocks = [m[2] for m in re.finditer(r"^(`{3,})yaml\n(.*?)^\1$", section, re.S | re.M)]
    assert blocks, f"no YAML example under {heading}"
    return [card for block in blocks for card in yaml.safe_load(block)]


@pytest.mark.parametrize(
    ("doc", "heading"),
    [("CONTRIBUTING.md", "### Cloze cards and reversed cards"), ("README.md", "## Cloze and reversed cards")],
)
def test_documented_examples_pass_check_and_build(typed: Project, doc: str, heading: str) -> None:
    import yaml

    cards = doc_examples(ROOT / doc, heading)
    assert {c.get("type", "basic") for c in cards} == {"basic", "cloze"} and any(c.get("reverse") for c in cards)
    tags = sorted({t for c in cards for t in c.get("tags", [])} | {"llm"})
    declared = {t: t for tag in tags for t in [tag.rsplit("::", i)[0] for i in range(tag.count("::") + 1)]}
    (typed.root / "cards" / "examples.yaml").unlink()  # the documented cards alone
    typed.write("cards/tags.yaml", yaml.safe_dump({"tags": declared}))
    typed.write("cards/docs.yaml", yaml.safe_dump({"tags": ["llm"], "cards": cards}, allow_unicode=True))
    result = typed.run("check", "--strict")
    assert "0 error(s), 0 warning(s)" in result.output
    assert "+ 1 reverse" in typed.run("--out", str(typed.root / "docs.apkg"), "--tags", "llm").output


def test_reverse_on_a_cloze_card_says_why_not(typed: Project) -> None:
    got = findings(typed, "  - id: rev-cloze\n    type: cloze\n    reverse: true\n    text: '{{c1::x}}'\n")
    assert got == [
        "5: card 'rev-cloze': 'reverse' belongs to basic cards, and this card is cloze "
        "(remove it: a cloze card already asks each of its clozes in turn)"
    ]
