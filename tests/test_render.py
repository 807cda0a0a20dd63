"""Rendering: Markdown, math, code, escaping and images, pinned by golden files.

Regenerate the golden files after an intended change with
    pytest tests/test_render.py --update-golden
and review the diff of tests/golden/ as part of the change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builder.config import load_config
from builder.notetype import note_types
from builder.render import Renderer, render_cloze_text, scan_inline

HERE = Path(__file__).parent
CASES = sorted((HERE / "fixtures" / "render").glob("*.md"))
GOLDEN = HERE / "golden"
MEDIA = {"diagram.png": "diagram-0123456789ab.png"}


def check_golden(path: Path, actual: str, update: bool) -> None:
    if update or not path.exists():
        if not update:
            pytest.fail(f"{path} is missing: run pytest --update-golden and review it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs; if intended: pytest --update-golden"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_rendered_html_matches_golden(case: Path, update_golden: bool) -> None:
    html = Renderer(MEDIA).markdown(case.read_text(encoding="utf-8"))
    check_golden(GOLDEN / "render" / f"{case.stem}.html", html + "\n", update_golden)


DECK = load_config(HERE.parent)  # this repository's deck, with the ids it pins
KINDS = {"basic": "notetype", "cloze": "notetype-cloze"}  # kind → golden file prefix


@pytest.mark.parametrize("kind", KINDS)
def test_notetype_schema_is_pinned(kind: str, update_golden: bool) -> None:
    """Fields, templates and their ids must never change by accident (see notetype.py)."""
    schema = json.dumps(note_types(DECK)[kind].schema(), indent=2) + "\n"
    check_golden(GOLDEN / f"{KINDS[kind]}-schema.json", schema, update_golden)


@pytest.mark.parametrize("kind", KINDS)
def test_notetype_templates_and_css_golden(kind: str, update_golden: bool) -> None:
    nt = note_types(DECK)[kind]
    [template] = nt.templates
    check_golden(GOLDEN / f"{KINDS[kind]}-front.html", template.front + "\n", update_golden)
    check_golden(GOLDEN / f"{KINDS[kind]}-back.html", template.back + "\n", update_golden)
    check_golden(GOLDEN / f"{KINDS[kind]}.css", nt.css, update_golden)


@pytest.mark.parametrize("kind", KINDS)
def test_code_theme_rules_are_scoped_to_their_mode(kind: str) -> None:
    """A highlighting rule outside `.card`/night-mode scope would leak one theme into the other."""
    css = re.sub(r"/\*.*?\*/", "", note_types(DECK)[kind].css, flags=re.S)
    selectors = [s.strip() for rule in re.findall(r"([^{}]+)\{", css) for s in rule.split(",")]
    code = [s for s in selectors if "highlight" in s or re.match(r"(pre|td|span|code)\b", s)]
    assert code, "no code-highlighting rules found in the note type CSS"
    scopes = (".card:not(.nightMode):not(.night_mode) .highlight", ".nightMode .highlight", ".night_mode .highlight")
    ours = (".ab ", ".nightMode .ab ", ".night_mode .ab ")  # layout rules of the card, not theme colours
    loose = [s for s in code if not s.startswith(scopes) and not s.startswith(ours)]
    assert not loose, f"unscoped code rules: {loose}"


def render(text: str) -> str:
    return Renderer(MEDIA).markdown(text)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"\(a_1 * b_2\)", r"\(a_1 * b_2\)"),
        (r"$a_1 * b_2$", r"\(a_1 * b_2\)"),
        ("$$x^2$$", r"\[x^2\]"),
        (r"\[ \frac{1}{2} \]", r"\[ \frac{1}{2} \]"),
        (r"\(a < b \& c\)", r"\(a &lt; b \&amp; c\)"),
        (r"\(\{x \mid x > 0\}\)", r"\(\{x \mid x &gt; 0\}\)"),
        (r"\(\\ \_\)", r"\(\\ \_\)"),
    ],
)
def test_math_survives_exactly(source: str, expected: str) -> None:
    assert render(source) == expected


@pytest.mark.parametrize(
    "source",
    ["It costs $5 and $10.", "Pay $5, then $6.", "Set $ x $ apart.", "Only one $ here."],
)
def test_dollar_that_is_not_math_stays_a_dollar(source: str) -> None:
    out = render(source)
    assert "\\(" not in out and out.count("$") == source.count("$")


def test_escaped_dollar_is_a_dollar() -> None:
    assert render(r"\$5 and \$6") == "$5 and $6"


def test_math_inside_code_is_code() -> None:
    assert render("`$x$` and `\\(y\\)`") == "<code>$x$</code> and <code>\\(y\\)</code>"


def test_prose_angle_brackets_and_ampersands_show_as_written() -> None:
    assert render("List<int> a < b & c") == "List&lt;int&gt; a &lt; b &amp; c"
    assert render("<b>x</b> H<sub>2</sub>O") == "<b>x</b> H<sub>2</sub>O"


def test_code_is_highlighted_into_css_classes() -> None:
    out = render("```python\ndef f(x):\n    return x < 1\n```")
    assert '<div class="highlight language-python">' in out
    assert '<span class="k">def</span>' in out and "&lt;" in out
    assert "style=" not in out  # colours come from the note type's CSS (light and night)
    # nothing between the block's start and the code
    assert out.startswith('<div class="highlight language-python"><pre><code><span class="k">def')


def test_image_gets_content_hashed_name() -> None:
    assert render("![d](diagram.png)") == '<img alt="d" src="diagram-0123456789ab.png">'


def test_scan_inline_marks_math_code_and_lt() -> None:
    kinds = [seg[0] for seg in scan_inline("a `b` $c$ <x")]
    assert kinds == ["text", "code", "text", "math", "text", "lt", "text"]


def test_refs_show_as_text_with_links_and_sources_stay_hidden() -> None:
    from builder.cards import Card
    from builder.render import render_fields

    card = Card(
        id="c",
        question="q",
        answer="a",
        tags=("t",),
        source=("000:6.8",),
        refs=("Vaswani et al., Attention Is All You Need, 2017. https://arxiv.org/abs/1706.03762.", "PyTorch <docs>"),
    )
    footer = render_fields(Renderer(), card)[3]
    assert footer == (
        '<span class="ab-ref">Vaswani et al., Attention Is All You Need, 2017. '
        '<a href="https://arxiv.org/abs/1706.03762">arxiv.org</a>.</span><br>'
        '<span class="ab-ref">PyTorch &lt;docs&gt;</span>'
    )
    assert "000:6.8" not in "".join(render_fields(Renderer(), card))


def cloze_html(text: str) -> str:
    return render_cloze_text(Renderer(MEDIA), text)


def test_cloze_markers_math_and_inline_code_survive_markdown() -> None:
    out = cloze_html(r"The {{c1::scale::what?}} is \(s = {{c2::\frac{a}{b}}}\) and {{c3::`torch.round`}}.")
    assert out == (r"The {{c1::scale::what?}} is \(s = {{c2::\frac{a}{b}}}\) and {{c3::<code>torch.round</code>}}.")


def test_code_block_inside_a_cloze_sits_inside_it_not_in_a_paragraph() -> None:
    out = cloze_html("Append to the cache:\n{{c1::\n```python\nk = cat([k, k_new])\n```\n::one line}}\nthen attend.")
    assert "<p>{{c1::" not in out and "::one line}}</p>" not in out
    opener, block, closer = out.index("{{c1::"), out.index('<div class="highlight'), out.index("::one line}}")
    assert opener < block < closer
    assert out.count("<p>") == out.count("</p>") == 2  # 'Append…' and 'then attend.' only


def test_a_marker_line_inside_code_is_code() -> None:
    out = cloze_html("{{c1::x}}\n\n```js\nif (a) {\n}}\n```")
    assert "<p>}}</p>" not in out and "}}" in out.split('<div class="highlight')[1]
