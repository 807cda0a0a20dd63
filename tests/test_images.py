"""Images: alt text, the size limit, and SVGs that reference or run nothing outside themselves.

`check` reports each problem at its place; the build refuses the same problems and writes nothing.
"""

from __future__ import annotations

import pytest

from builder.images import MAX_IMAGE_BYTES, svg_problems
from tests.conftest import Project

SAFE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20"
     viewBox="0 0 40 20" role="img">
<title>a safe diagram</title>
<defs><marker id="arrow"><path d="M0,0 L10,5 L0,10 z"/></marker>
<linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
<style>.a { fill: url(#g); }</style>
<rect width="40" height="20" fill="url(#g)" style="stroke: url('#g')"/>
<use href="#arrow"/><use xlink:href="#arrow"/><a href="#arrow"><text x="1" y="12">ok</text></a>
<polyline points="0,0 9,9" marker-end="url(#arrow)"/>
</svg>
"""


def card(answer: str, extra: str = "") -> str:
    text = f"""tags: [compression]
cards:
  - id: with-image
    question: What does the diagram show?
    answer: |
      {answer}
"""
    if extra:
        text += f"    extra: |\n      {extra}\n"
    return text


def test_a_safe_svg_with_local_references_passes() -> None:
    assert list(svg_problems(SAFE_SVG.encode())) == []


@pytest.mark.parametrize(
    ("svg_body", "problem"),
    [
        ("<script>alert(1)</script>", "<script> element can run script or load content"),
        ('<rect onload="alert(1)"/>', "event handler attribute 'onload' runs script"),
        ('<g><rect onClick="x()"/></g>', "event handler attribute 'onclick' runs script"),
        ("<foreignObject><p>hi</p></foreignObject>", "<foreignobject> element can run script or load content"),
        ('<image href="https://example.org/x.png"/>', "<image href='https://example.org/x.png'> references a resource"),
        ('<image xlink:href="data:image/png;base64,AAAA"/>', "<image href='data:image/png;base64,AAAA'> references"),
        ('<use href="other.svg#icon"/>', "<use href='other.svg#icon'> references a resource outside the file"),
        ('<a href="javascript:alert(1)"><text>x</text></a>', "<a href='javascript:alert(1)'> references a resource"),
        ('<a href="file:///etc/passwd"><text>x</text></a>', "<a href='file:///etc/passwd'> references a resource"),
        ("<style>@import 'https://example.org/a.css';</style>", "<style>: CSS '@import' loads another file"),
        ("<style>rect { fill: url(https://example.org/p.svg#x) }</style>", "<style>: CSS 'url(https://example.org/"),
        ('<rect fill="url(http://example.org/g.svg#g)"/>', "attribute 'fill': CSS 'url(http://example.org/g.svg#g)'"),
        ('<rect style="background: url(file:///etc/hosts)"/>', "attribute 'style': CSS 'url(file:///etc/hosts)'"),
        ('<set attributeName="href" to="https://example.org"/>', "<set> animates 'href'"),
        ('<iframe src="x"/>', "<iframe> element can run script or load content"),
    ],
)
def test_svg_content_that_reaches_outside_the_file_is_named(svg_body: str, problem: str) -> None:
    data = f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n{svg_body}\n</svg>'
    found = list(svg_problems(data.encode()))
    assert [line for line, _ in found] == [2], found
    assert found[0][1].startswith(problem), found


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x "y">]>\n<svg/>', "DOCTYPE declaration"),
        ('<?xml-stylesheet href="https://example.org/a.css"?>\n<svg/>', "<?xml-stylesheet?> loads"),
        ("<svg><rect></svg>", "is not well-formed XML: mismatched tag"),
        ("<html><body/></html>", "root element is <html>, not <svg>"),
        ("", "is not well-formed XML: no element found"),
    ],
)
def test_svg_documents_that_are_not_plain_svg_are_refused(data: str, problem: str) -> None:
    found = [message for _line, message in svg_problems(data.encode())]
    assert any(m.startswith(problem) for m in found), found


def test_billion_laughs_is_refused_without_expanding(project: Project) -> None:
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY a "aaaaaaaaaa">\n'
    bomb += "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9))
    bomb += "]>\n<svg>&j;</svg>\n"
    found = [message for _line, message in svg_problems(bomb.encode())]
    assert found[0].startswith("DOCTYPE declaration")
    assert any("entity declaration" in m for m in found)


def test_check_reports_every_image_problem_at_its_place(project: Project) -> None:
    project.write("media/ok.svg", SAFE_SVG)
    project.write("media/evil.svg", '<svg xmlns="http://www.w3.org/2000/svg">\n\n<script>alert(1)</script>\n</svg>')
    project.write("media/huge.png", "x" * (MAX_IMAGE_BYTES + 1))
    project.write(
        "cards/images.yaml",
        card(
            '![](ok.svg) and <img src="evil.svg"> and ![  ](huge.png)',
            extra='`![](in-code.svg)` is code, not an image; <img alt="" src="ok.svg">',
        ),
    )
    result = project.run("check", ok=False)
    assert result.exit_code == 1
    for where, src in ((6, "ok.svg"), (6, "evil.svg"), (6, "huge.png"), (8, "ok.svg")):
        assert f"cards/images.yaml:{where}: card 'with-image': image '{src}' has no alt text (describe" in result.output
    assert result.output.count("has no alt text") == 4
    assert "media/evil.svg:3: SVG <script> element can run script or load content (remove it:" in result.output
    assert f"media/huge.png:1: image is {MAX_IMAGE_BYTES + 1:,} bytes, over the limit of 204,800 bytes" in result.output
    assert "'in-code.svg' has no alt text" not in result.output  # code spans are not images
    assert "media/ok.svg" not in result.output  # the safe SVG itself is fine


def test_build_refuses_an_unsafe_svg_and_writes_nothing(project: Project) -> None:
    project.write("media/evil.svg", '<svg xmlns="http://www.w3.org/2000/svg"><rect onload="fetch(1)"/></svg>')
    project.write("cards/images.yaml", card("![a diagram](evil.svg)"))
    lock = (
        (project.root / "cards" / "ankibuild.lock").read_bytes()
        if (project.root / "cards/ankibuild.lock").exists()
        else None
    )
    result = project.run(ok=False)
    assert result.exit_code == 1
    assert "media/evil.svg:1: SVG event handler attribute 'onload' runs script" in result.output
    assert "Traceback" not in result.output
    assert not (project.root / "dist").exists()
    now = (
        (project.root / "cards" / "ankibuild.lock").read_bytes()
        if (project.root / "cards/ankibuild.lock").exists()
        else None
    )
    assert now == lock


def test_build_refuses_an_image_without_alt_text(project: Project) -> None:
    project.write("media/ok.svg", SAFE_SVG)
    project.write("cards/images.yaml", card("![](ok.svg)"))
    result = project.run(ok=False)
    assert "cards/images.yaml:6: card 'with-image': image 'ok.svg' has no alt text" in result.output
    assert not (project.root / "dist").exists()


def test_a_safe_svg_with_alt_text_builds_and_ships_under_its_content_name(project: Project) -> None:
    import zipfile

    project.write("media/ok.svg", SAFE_SVG)
    project.write("cards/images.yaml", card("![a safe diagram](ok.svg)"))
    apkg = project.build()
    with zipfile.ZipFile(apkg) as zf:
        import json

        names = json.loads(zf.read("media"))
        assert [n for n in names.values() if n.startswith("ok-") and n.endswith(".svg")], names
        assert SAFE_SVG.encode() in [zf.read(i) for i in names]
