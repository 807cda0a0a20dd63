"""The diagrams in media/: reproducible from scripts/diagrams.py, safe, in the house style, shown
by the cards that name them, and right — every number a diagram draws is computed here again from
the formula the card states."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

from builder.cards import load_collection
from builder.config import load_config
from builder.images import MAX_IMAGE_BYTES, image_problems
from builder.render import Renderer

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "media"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _load_script():
    spec = importlib.util.spec_from_file_location("diagrams", ROOT / "scripts" / "diagrams.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["diagrams"] = module
    spec.loader.exec_module(module)
    return module


diagrams = _load_script()
BUILT = diagrams.build_all()


def luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_committed_svgs_are_exactly_what_the_script_writes() -> None:
    committed = {p.name: p.read_text(encoding="utf-8") for p in MEDIA.glob("*.svg")}
    assert set(committed) == set(BUILT), "every SVG comes from scripts/diagrams.py (run it and commit media/)"
    stale = [name for name in BUILT if committed[name] != BUILT[name]]
    assert stale == [], "run: .venv/bin/python scripts/diagrams.py"
    assert diagrams.build_all() == BUILT  # and a second run gives the same bytes


def test_at_least_25_cards_show_a_diagram() -> None:
    cards = {card_id for ids in diagrams.USED_BY.values() for card_id in ids}
    assert len(BUILT) >= 25 and len(cards) >= 25
    assert set(diagrams.USED_BY) == set(BUILT)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_each_diagram_is_safe_small_and_in_house_style(name: str) -> None:
    path = MEDIA / name
    assert list(image_problems(path)) == []
    assert path.stat().st_size < MAX_IMAGE_BYTES / 4
    root = ET.fromstring(BUILT[name])
    width = int(root.get("width"))
    assert root.get("viewBox") == f"0 0 {width} {root.get('height')}"
    assert width <= diagrams.MAX_WIDTH
    assert "sans-serif" in root.get("font-family") and "Noto Sans CJK SC" in root.get("font-family")
    children = list(root)
    assert children[0].tag == f"{SVG_NS}title" and children[0].text.strip()
    panel = next(c for c in children if c.tag == f"{SVG_NS}rect")
    # An opaque panel under everything: the drawing never depends on the card's background.
    assert (panel.get("x"), panel.get("width"), panel.get("fill")) == ("0.5", str(width - 1), diagrams.PANEL)
    sizes = [float(t.get("font-size")) for t in root.iter(f"{SVG_NS}text")]
    assert min(sizes) >= diagrams.MIN_FONT
    # At a 360 px phone the image is scaled to the card (≤ 320 px of content): text stays ≥ 10 px.
    assert min(sizes) * diagrams.PHONE_CARD_WIDTH / width >= 10
    for t in root.iter(f"{SVG_NS}text"):
        assert t.get("fill", diagrams.INK) in diagrams.TEXT_COLOURS, t.text


def test_every_text_colour_is_legible_on_every_fill_it_can_sit_on() -> None:
    fills = [fill for fill, _stroke in diagrams.KINDS.values()] + [diagrams.PANEL]
    for ink in diagrams.TEXT_COLOURS:
        for fill in fills:
            assert contrast(ink, fill) >= 4.5, (ink, fill)


def test_cards_show_their_diagrams_with_the_title_as_alt_text() -> None:
    col = load_collection(load_config(ROOT))
    by_id = {card.id: card for card in col.cards}
    renderer = Renderer({name: name for name in BUILT})
    for name, card_ids in diagrams.USED_BY.items():
        title = ET.fromstring(BUILT[name]).find(f"{SVG_NS}title").text
        for card_id in card_ids:
            card = by_id[card_id]
            html = renderer.markdown(card.answer + "\n\n" + card.extra)
            imgs = re.findall(r'<img alt="([^"]*)" src="([^"]*)"', html)
            assert (title, name) in [(alt.replace("&gt;", ">").replace("&amp;", "&"), src) for alt, src in imgs], (
                card_id,
                name,
            )


# --- the facts the diagrams draw --------------------------------------------------------------


@pytest.mark.parametrize(("p", "m"), [(4, 4), (4, 8), (2, 5), (8, 32), (3, 1)])
def test_pipeline_schedules_have_the_bubble_the_cards_state(p: int, m: int) -> None:
    for kind in ("gpipe", "1f1b"):
        start = diagrams.pipeline_schedule(p, m, kind)
        total, idle, peaks = diagrams.schedule_stats(start, p, m)
        assert total == 2 * (m + p - 1)
        assert Fraction(idle).limit_denominator(1000) == Fraction(p - 1, m + p - 1)
        # every dependency holds: forward flows down the stages, backward flows back up
        for (s, op, i), t in start.items():
            if op == "F" and s > 0:
                assert t > start[(s - 1, "F", i)]
            if op == "B":
                assert t > start[(s + 1, "B", i) if s < p - 1 else (s, "F", i)]
        if kind == "gpipe":
            assert peaks[0] == m  # all m micro-batches' activations are held at once
        else:
            assert max(peaks) == min(p, m)  # 1F1B holds at most about p


def test_the_drawn_pipeline_numbers() -> None:
    svg = BUILT["pipeline-bubble.svg"]
    assert "3/7 ≈ 43%" in svg and "2(m+p−1) = 14" in svg
    svg = BUILT["pipeline-1f1b.svg"]
    assert "缓存 8 份" in svg and "缓存 4 份" in svg and "都是 22 格" in svg and "3/11" in svg


@pytest.mark.parametrize("n", [2, 3, 4, 8])
def test_ring_allreduce_finishes_in_2_n_minus_1_steps(n: int) -> None:
    states = diagrams.ring_allreduce(n)
    everyone = frozenset(range(n))
    assert len(states) == 1 + 2 * (n - 1)
    after_rs = states[n - 1]
    for gpu in range(n):  # reduce-scatter: each GPU owns exactly one fully reduced chunk
        assert [c for c in range(n) if after_rs[gpu][c] == everyone] == [(gpu + 1) % n]
    assert all(chunk == everyone for row in states[-1] for chunk in row)
    for step in range(1, len(states)):  # each step each GPU receives exactly one chunk (K/N bytes)
        for gpu in range(n):
            changed = [c for c in range(n) if states[step][gpu][c] != states[step - 1][gpu][c]]
            assert len(changed) == 1


def test_quantization_example_follows_the_cards_formulas() -> None:
    x_min, x_max, x = diagrams.QUANT_EXAMPLE
    s, z = diagrams.affine_params(x_min, x_max)
    assert s == pytest.approx((x_max - x_min) / 255)
    assert z == round(0 - x_min / s) == 64
    q = diagrams.quantize(x, s, z)
    assert q == 109 and abs(s * (q - z) - x) <= s / 2
    assert diagrams.quantize(0.0, s, z) == z  # the float 0 is exactly representable
    svg = BUILT["quantization-affine-mapping.svg"]
    assert "z = 64" in svg and "q = 109" in svg and "0.00784" in svg and "0.3529" in svg


def test_moe_gates_are_a_softmax_over_the_top_2() -> None:
    logits = diagrams.MOE_LOGITS
    gates = diagrams.top_k_gates(logits, 2)
    assert sorted(gates) == [2, 5]  # E3 and E6
    full = [math.exp(v) for v in logits]
    renorm = {i: full[i] / (full[2] + full[5]) for i in (2, 5)}
    assert gates == pytest.approx(renorm)
    assert f"{gates[2]:.2f}" == "0.62" and "0.62·E3(x) + 0.38·E6(x)" in BUILT["moe-top2-routing.svg"]


def test_zero_memory_matches_the_zero_paper_example() -> None:
    mem = diagrams.zero_memory(7.5, 64)
    assert [round(mem[k], 1) for k in ("DDP", "ZeRO-1", "ZeRO-2", "ZeRO-3")] == [120.0, 31.4, 16.6, 1.9]
    svg = BUILT["zero-sharding.svg"]
    assert all(f"{v} GB" in svg for v in ("120", "31.4", "16.6", "1.9"))


def test_kv_sharing_and_lora_numbers() -> None:
    svg = BUILT["kv-head-sharing.svg"]
    d_h = 128
    d_c, d_r = 4 * d_h, d_h // 2  # DeepSeek-V2/V3: d_c = 4 d_h, d_h^R = d_h / 2
    assert (d_c + d_r) / d_h == 4.5 and "4.5 d_h" in svg and "16 d_h" in svg and "4 d_h" in svg
    assert "512 + 64 = 576" in BUILT["mla-latent-kv.svg"]
    d = k = 4096
    assert 8 * (d + k) == 65_536 and round(8 * (d + k) / (d * k) * 100, 2) == 0.39
