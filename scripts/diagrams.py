"""The deck's diagrams: one function per SVG in media/, drawn with one palette, font stack and grid.

    .venv/bin/python scripts/diagrams.py           # rewrite media/*.svg from this file
    .venv/bin/python scripts/diagrams.py --check   # exit 1 if a committed SVG differs from its source

This file is the source a contributor edits and reviews; the SVGs are its committed output, written
byte for byte the same on every run (no dates, no random ids, fixed number formatting), and
tests/test_diagrams.py fails when the two drift apart. Where a diagram shows a computed fact (a
pipeline schedule, ring all-reduce chunk sums, quantization numbers, gate values), the function
computes it with the same formula the card states, and the tests check those numbers.

House style (CONTRIBUTING.md, "Diagrams"): an opaque light panel (so the drawing reads the same on
light and night cards; night mode dims it with CSS), dark text only on light fills, width ≤ 400
units with text ≥ 13 units (≥ 10 px once a 360 px phone scales it to the card), the card's own
font stack (CJK-capable), and colour never the only carrier of meaning (every box is labelled).
"""

from __future__ import annotations

import argparse
import html
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "media"

FONT = (
    "-apple-system, BlinkMacSystemFont, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', "
    "'Noto Sans CJK SC', 'Microsoft YaHei', Roboto, 'Helvetica Neue', Arial, sans-serif"
)
PANEL = "#f6f8fa"  # the opaque panel every diagram sits on
EDGE = "#d0d7de"
INK = "#1f2328"  # text
INK2 = "#4b5563"  # secondary text (contrast ≥ 6:1 on every fill below)
LINE = "#57606a"  # arrows and connectors
# kind → (fill, stroke). Fills are light so dark text on them keeps ≥ 4.5:1 after night dimming.
KINDS = {
    "blue": ("#dbeafe", "#2563eb"),  # computation, attention, the trained model
    "green": ("#dcfce7", "#16a34a"),  # kept, accepted, backward, results
    "orange": ("#ffedd5", "#ea580c"),  # normalisation, cache, what is stored
    "purple": ("#ede9fe", "#7c3aed"),  # low-rank / expert / latent paths
    "red": ("#fee2e2", "#dc2626"),  # masked, rejected, idle time
    "grey": ("#e5e7eb", "#6b7280"),  # frozen, discarded, not computed
    "yellow": ("#fef9c3", "#ca8a04"),  # data, prompts, inputs
    "white": ("#ffffff", "#8c959f"),  # plain containers
    "panel": (PANEL, EDGE),
}
TEXT_COLOURS = (INK, INK2)
SMALL = 14  # the smallest text: notes, legends, dimensions
MIN_FONT = SMALL  # units; the browser test asserts the rendered size
MAX_WIDTH = 400
PHONE_CARD_WIDTH = 290  # px a 360 px view leaves for a card (306 in the preview; 291 with a classic scrollbar)


def fmt(v: float) -> str:
    """Fixed, short number formatting: the same bytes on every machine."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


@dataclass
class Svg:
    name: str
    width: int
    height: int
    title: str
    parts: list[str] = field(default_factory=list)
    font_sizes: list[float] = field(default_factory=list)
    uses_arrow: bool = False

    # --- primitives -------------------------------------------------------------------------
    def rect(self, x, y, w, h, kind="white", rx=4, dash=False, stroke_width=1.2) -> None:
        fill, stroke = KINDS[kind]
        extra = ' stroke-dasharray="4 3"' if dash else ""
        self.parts.append(
            f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" rx="{rx}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"{extra}/>'
        )

    def text(self, x, y, s, size: float = 15, anchor="middle", color=INK, bold=False, italic=False) -> None:
        """Text whose visual centre is at (x, y) (the baseline is derived, not left to the renderer)."""
        assert size >= MIN_FONT, (self.name, s, size)
        assert color in TEXT_COLOURS, (self.name, s, color)
        self.font_sizes.append(size)
        attrs = f'x="{fmt(x)}" y="{fmt(y + size * 0.35)}" font-size="{fmt(size)}"'
        if anchor != "start":  # SVG's default anchor is "start"
            attrs += f' text-anchor="{anchor}"'
        if color != INK:
            attrs += f' fill="{color}"'
        if bold:
            attrs += ' font-weight="700"'
        if italic:
            attrs += ' font-style="italic"'
        self.parts.append(f"<text {attrs}>{html.escape(s, quote=False)}</text>")

    def box(self, x, y, w, h, label, kind="white", size=15, bold=False, dash=False, color=INK) -> None:
        """A labelled rectangle; `label` may hold several lines separated by newlines."""
        self.rect(x, y, w, h, kind, dash=dash)
        lines = label.split("\n") if label else []
        step = size * 1.25
        top = y + h / 2 - step * (len(lines) - 1) / 2
        for i, line in enumerate(lines):
            self.text(x + w / 2, top + i * step, line, size, bold=bold, color=color)

    def circle(self, cx, cy, r, kind="white", label="", size=15) -> None:
        fill, stroke = KINDS[kind]
        self.parts.append(
            f'<circle cx="{fmt(cx)}" cy="{fmt(cy)}" r="{fmt(r)}" fill="{fill}" stroke="{stroke}" stroke-width="1.2"/>'
        )
        if label:
            self.text(cx, cy, label, size)

    def line(self, points: Sequence[tuple[float, float]], arrow=True, color=LINE, dash=False, width=1.5) -> None:
        d = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)
        extra = ' marker-end="url(#arrow)"' if arrow else ""
        if dash:
            extra += ' stroke-dasharray="5 4"'
        self.uses_arrow |= arrow
        self.parts.append(
            f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="{width}" '
            f'stroke-linejoin="round"{extra}/>'
        )

    def arrow(self, x1, y1, x2, y2, **kw) -> None:
        self.line([(x1, y1), (x2, y2)], **kw)

    # --- output -----------------------------------------------------------------------------
    def render(self) -> str:
        assert self.width <= MAX_WIDTH, (self.name, self.width)
        # The title is also the card's alt text, `![title](name.svg)`: brackets would end it early.
        assert not set("[]<`\\") & set(self.title), (self.name, "alt text must not contain [ ] < ` or a backslash")
        smallest = min(self.font_sizes)
        assert smallest * PHONE_CARD_WIDTH / self.width >= 10, (self.name, smallest, self.width)  # px on a phone
        w, h = self.width, self.height
        head = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'role="img" font-family="{FONT}" fill="{INK}">',
            f"<title>{html.escape(self.title, quote=False)}</title>",
        ]
        if self.uses_arrow:
            head.append(
                '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{LINE}"/></marker></defs>'
            )
        panel = f'<rect x="0.5" y="0.5" width="{w - 1}" height="{h - 1}" rx="8" fill="{PANEL}" stroke="{EDGE}"/>'
        return "\n".join([*head, panel, *self.parts, "</svg>"]) + "\n"


DIAGRAMS: dict[str, Callable[[], Svg]] = {}
#: The cards that show each diagram (as `![title](name.svg)` in their answer); tests/test_diagrams.py checks it.
USED_BY = {
    "attention-masks.svg": ("attention-padding-mask", "attention-causal-mask"),
    "attention-shapes.svg": ("scaled-dot-product-attention-formula",),
    "chunked-prefill-timeline.svg": ("chunked-prefill-vs-pd-disaggregation",),
    "clip-contrastive-matrix.svg": ("clip-infonce-contrastive-loss",),
    "dp-tp-pp.svg": ("multi-gpu-training-strategies-overview",),
    "encoder-decoder-attention.svg": ("transformer-three-attention-types",),
    "flashattention-tiling.svg": ("flashattention-principle",),
    "grpo-group-advantage.svg": ("grpo-why-drop-critic",),
    "kv-cache-growth.svg": ("kv-cache-what-and-why",),
    "kv-head-sharing.svg": ("mha-mqa-gqa-mla-comparison",),
    "lora-path.svg": ("lora-formula",),
    "mla-latent-kv.svg": ("mla-low-rank-kv-joint-compression",),
    "moe-expert-parallel.svg": ("moe-expert-parallelism-all-to-all",),
    "moe-top2-routing.svg": ("moe-router-top-k-gating",),
    "paged-kv-blocks.svg": ("paged-attention",),
    "parallelism-3d-layout.svg": ("parallelism-3d-layout",),
    "pd-disaggregation.svg": ("pd-disaggregation-why",),
    "pipeline-1f1b.svg": ("pipeline-gpipe-vs-1f1b",),
    "pipeline-bubble.svg": ("pipeline-parallelism-bubble",),
    "ppo-rlhf-loop.svg": ("ppo-rlhf-iteration-steps",),
    "pre-ln-vs-post-ln.svg": ("pre-ln-vs-post-ln",),
    "quantization-affine-mapping.svg": ("quantization-asymmetric-scale-zero-point",),
    "quantization-granularity.svg": ("quantization-granularity",),
    "rag-pipeline.svg": ("rag-pipeline-end-to-end",),
    "react-loop.svg": ("react-reason-act-loop",),
    "ring-allreduce-steps.svg": ("ring-allreduce-communication-volume",),
    "rlhf-three-stages.svg": ("rlhf-three-stages",),
    "speculative-decoding-verify.svg": ("speculative-decoding",),
    "tensor-parallel-mlp.svg": ("tensor-parallelism-megatron",),
    "zero-sharding.svg": ("zero-stages-memory",),
}


def diagram(func: Callable[[], Svg]) -> Callable[[], Svg]:
    DIAGRAMS[func.__name__.replace("_", "-") + ".svg"] = func
    return func


# --- computed content (the tests check these against the cards' formulas) ----------------------


def pipeline_schedule(p: int, m: int, kind: str) -> dict[tuple[int, str, int], int]:
    """Start slot of every (stage, 'F'|'B', micro-batch); forward and backward take one slot each.

    GPipe: all forwards, then all backwards. 1F1B (PipeDream-Flush, as in Megatron-LM): stage s
    runs p-s-1 warm-up forwards, then alternates one forward and one backward, then drains.
    """
    orders = []
    for s in range(p):
        if kind == "gpipe":
            order = [("F", i) for i in range(m)] + [("B", i) for i in range(m)]
        else:
            warm = min(p - s - 1, m)
            order = [("F", i) for i in range(warm)]
            f, b = warm, 0
            while f < m:
                order += [("F", f), ("B", b)]
                f, b = f + 1, b + 1
            order += [("B", i) for i in range(b, m)]
        orders.append(order)
    start: dict[tuple[int, str, int], int] = {}
    pos = [0] * p
    free = [0] * p
    while any(pos[s] < len(orders[s]) for s in range(p)):
        progressed = False
        for s in range(p):
            if pos[s] == len(orders[s]):
                continue
            op, i = orders[s][pos[s]]
            if op == "F":
                dep = (s - 1, "F", i) if s > 0 else None
            else:
                dep = (s + 1, "B", i) if s < p - 1 else (s, "F", i)
            if dep is not None and dep not in start:
                continue
            ready = start[dep] + 1 if dep is not None else 0
            start[(s, op, i)] = max(free[s], ready)
            free[s] = start[(s, op, i)] + 1
            pos[s] += 1
            progressed = True
        assert progressed, "schedule deadlocked"
    return start


def schedule_stats(start: dict[tuple[int, str, int], int], p: int, m: int) -> tuple[int, float, list[int]]:
    """(total slots, idle fraction, peak micro-batches whose activations a stage holds at once)."""
    total = max(start.values()) + 1
    idle = 1 - (2 * m * p) / (total * p)
    peaks = []
    for s in range(p):
        held = peak = 0
        for t in range(total):
            for i in range(m):
                if start.get((s, "F", i)) == t:
                    held += 1
                    peak = max(peak, held)
                if start.get((s, "B", i)) == t:
                    held -= 1
        peaks.append(peak)
    return total, idle, peaks


def ring_allreduce(n: int) -> list[list[list[frozenset[int]]]]:
    """States after each step: states[step][gpu][chunk] = the set of GPUs summed into that chunk.

    Reduce-scatter: at step t GPU i sends chunk (i - t) mod n to GPU i+1, which adds it. All-gather:
    at step t GPU i sends chunk (i + 1 - t) mod n, which the receiver stores.
    """
    state = [[frozenset({g}) for _c in range(n)] for g in range(n)]
    states = [[row[:] for row in state]]
    for t in range(n - 1):
        sent = [(i, (i - t) % n, state[i][(i - t) % n]) for i in range(n)]
        for i, c, value in sent:
            dst = (i + 1) % n
            state[dst][c] = state[dst][c] | value
        states.append([row[:] for row in state])
    for t in range(n - 1):
        sent = [(i, (i + 1 - t) % n, state[i][(i + 1 - t) % n]) for i in range(n)]
        for i, c, value in sent:
            state[(i + 1) % n][c] = value
        states.append([row[:] for row in state])
    return states


def affine_params(x_min: float, x_max: float, q_min: int = 0, q_max: int = 255) -> tuple[float, int]:
    scale = (x_max - x_min) / (q_max - q_min)
    return scale, round(q_min - x_min / scale)


def quantize(x: float, scale: float, zero: int, q_min: int = 0, q_max: int = 255) -> int:
    return max(q_min, min(q_max, round(x / scale) + zero))


def top_k_gates(logits: Sequence[float], k: int) -> dict[int, float]:
    """Softmax over the k largest logits (expert index → gate)."""
    chosen = sorted(range(len(logits)), key=lambda i: -logits[i])[:k]
    total = sum(math.exp(logits[i]) for i in chosen)
    return {i: math.exp(logits[i]) / total for i in sorted(chosen)}


MOE_LOGITS = (0.2, -1.0, 1.6, 0.1, -0.5, 1.1, 0.3, -0.2)
QUANT_EXAMPLE = (-0.5, 1.5, 0.35)  # x_min, x_max, an x to quantize
ZERO_EXAMPLE = (7.5, 64)  # billions of parameters, data-parallel GPUs (the ZeRO paper's example)


def zero_memory(phi: float, n: int) -> dict[str, float]:
    """Model-state bytes per GPU with Adam in mixed precision (2 + 2 + 12 bytes a parameter)."""
    return {
        "DDP": 16 * phi,
        "ZeRO-1": 4 * phi + 12 * phi / n,
        "ZeRO-2": 2 * phi + 14 * phi / n,
        "ZeRO-3": 16 * phi / n,
    }


# --- the diagrams ---------------------------------------------------------------------------------


@diagram
def pre_ln_vs_post_ln() -> Svg:
    g = Svg(
        "pre-ln-vs-post-ln",
        400,
        428,
        "Post-LN 与 Pre-LN 的 Transformer 层：Post-LN 把 LN 放在残差相加之后，主干上有 LN；"
        "Pre-LN 把 LN 放进子层分支，残差主干从输入到输出是一条不经过 LN 的恒等通路。",
    )
    bw, bh, step = 112, 30, 44

    def column(cx: float, title: str, items: list[tuple[str, str]], residuals: list[tuple[int, int]], note: str):
        g.text(cx, 22, title, 16, bold=True)
        ys = [372 - i * step for i in range(len(items) + 2)]  # 0: input, last: output
        g.text(cx, ys[0] + 18, "输入 x", 14, color=INK2)
        g.text(cx, ys[-1] + 4, "输出", 14, color=INK2)
        for i, (label, kind) in enumerate(items, start=1):
            y = ys[i]
            if label == "+":
                g.circle(cx, y, 12, "white", "+", 16)
            else:
                g.box(cx - bw / 2, y - bh / 2, bw, bh, label, kind, 14)
        # the trunk between consecutive items
        for i in range(len(items) + 1):
            y0, y1 = ys[i], ys[i + 1]
            lo = y0 - (0 if i == 0 else (12 if items[i - 1][0] == "+" else bh / 2))
            if i == 0:
                lo = ys[0] + 8
            hi = y1 + (12 if i < len(items) and items[i][0] == "+" else bh / 2)
            if i == len(items):
                hi = y1 + 16
            g.arrow(cx, lo, cx, hi)
        for a, b in residuals:  # from just below item a (0 = the input) round the right to the '+' at b
            ya = (ys[a] + ys[a + 1]) / 2 if a else ys[0] + 2
            yb = ys[b]
            g.line([(cx, ya), (cx + bw / 2 + 16, ya), (cx + bw / 2 + 16, yb), (cx + 13, yb)], color="#16a34a", width=2)
        g.text(cx, 412, note, SMALL, color=INK2)

    column(
        100,
        "Post-LN",
        [
            ("Attention", "blue"),
            ("+", ""),
            ("LayerNorm", "orange"),
            ("FFN", "blue"),
            ("+", ""),
            ("LayerNorm", "orange"),
        ],
        [(0, 2), (3, 5)],
        "LN(x + F(x))：LN 在主干上",
    )
    column(
        300,
        "Pre-LN",
        [
            ("LayerNorm", "orange"),
            ("Attention", "blue"),
            ("+", ""),
            ("LayerNorm", "orange"),
            ("FFN", "blue"),
            ("+", ""),
        ],
        [(0, 3), (3, 6)],
        "x + F(LN(x))：主干无 LN",
    )
    g.arrow(200, 60, 200, 396, arrow=False, color=EDGE)
    return g


@diagram
def encoder_decoder_attention() -> Svg:
    g = Svg(
        "encoder-decoder-attention",
        400,
        300,
        "原始 Transformer 的三种注意力：encoder 自注意力的 Q、K、V 都来自源序列；decoder 掩码自注意力的 "
        "Q、K、V 都来自目标序列；交叉注意力的 Q 来自 decoder，K、V 来自 encoder 最后一层的输出。",
    )
    g.text(100, 22, "Encoder ×N", 16, bold=True)
    g.text(300, 22, "Decoder ×N", 16, bold=True)
    g.rect(20, 40, 160, 150, "white", dash=True)
    g.rect(220, 40, 160, 206, "white", dash=True)
    g.box(35, 120, 130, 48, "① 自注意力\nQ,K,V ← 源序列", "blue", SMALL)
    g.box(35, 60, 130, 40, "FFN", "blue", 14)
    g.box(235, 178, 130, 48, "② 掩码自注意力\nQ,K,V ← 目标序列", "blue", SMALL)
    g.box(235, 112, 130, 48, "③ 交叉注意力\nQ ← decoder", "purple", SMALL)
    g.box(235, 56, 130, 40, "FFN", "blue", 14)
    g.text(100, 222, "源序列（带 padding mask）", SMALL, color=INK2)
    g.text(300, 270, "目标序列（因果掩码）", SMALL, color=INK2)
    g.arrow(100, 210, 100, 170)
    g.arrow(100, 120, 100, 102)
    g.arrow(300, 258, 300, 228)
    g.arrow(300, 178, 300, 162, color=LINE)
    g.text(316, 169, "Q", SMALL, color=INK2)
    g.arrow(300, 112, 300, 98)
    # encoder output → cross attention as K, V
    g.line([(100, 60), (100, 32), (200, 32), (200, 136), (233, 136)], color="#7c3aed", width=2)
    g.text(200, 150, "K, V", 14, bold=True)
    g.text(104, 258, "K、V ← encoder 最后一层", SMALL, color=INK2)
    return g


def _mask_grid(g: Svg, x0: float, y0: float, cell: float, keep: Callable[[int, int], bool], n: int) -> None:
    for i in range(n):
        for j in range(n):
            ok = keep(i, j)
            g.rect(x0 + j * cell, y0 + i * cell, cell, cell, "green" if ok else "red", rx=0, stroke_width=0.8)
            if not ok:
                g.text(x0 + j * cell + cell / 2, y0 + i * cell + cell / 2, "×", SMALL, color=INK2)


@diagram
def attention_masks() -> Svg:
    g = Svg(
        "attention-masks",
        400,
        256,
        "注意力分数矩阵上的掩码（行是 query i，列是 key j，5 个位置中后 2 个是 pad）：因果掩码去掉 j > i 的上三角；"
        "padding mask 去掉 pad 所在的 key 列；decoder 两者同时用，取逻辑与。打叉的格子加 −∞，softmax 后权重为 0。",
    )
    n, cell, real = 5, 18, 3
    tokens = ["我", "爱", "猫", "pad", "pad"]
    panels = [
        ("因果掩码", lambda i, j: j <= i),
        ("padding mask", lambda i, j: j < real),
        ("两者取与", lambda i, j: j <= i and j < real),
    ]
    for k, (title, keep) in enumerate(panels):
        x0 = 74 + k * 112
        g.text(x0 + n * cell / 2, 28, title, 14, bold=True)
        _mask_grid(g, x0, 64, cell, keep, n)
        if k < 2:
            g.text(x0 + n * cell + 11, 64 + n * cell / 2, "∧" if k == 0 else "=", 16, bold=True)
    g.text(74 + n * cell / 2, 50, "key j →", SMALL, color=INK2)
    g.text(10, 50, "query i ↓", SMALL, anchor="start", color=INK2)
    for i in range(len(tokens)):
        g.text(60, 64 + i * cell + cell / 2, str(i + 1), SMALL, color=INK2)
    g.text(200, 184, "行 = query i，列 = key j", SMALL, color=INK2)
    g.text(200, 206, "位置：1 我、2 爱、3 猫、4 pad、5 pad", SMALL, color=INK2)
    g.text(200, 232, "打 × 的分数加 −∞ → softmax 后权重为 0", SMALL, color=INK2)
    return g


@diagram
def kv_head_sharing() -> Svg:
    g = Svg(
        "kv-head-sharing",
        400,
        352,
        "8 个 query 头时 K/V 的共享方式：MHA 每个 query 头一组 K/V（8 组）；GQA 每 4 个 query 头共享一组（2 组）；"
        "MQA 所有头共享 1 组；MLA 只缓存一个潜向量 c^KV 和一个共享的 RoPE key，用时再上投影出各头的 K/V。",
    )
    rows = [
        ("MHA", 8, "2·8·d_h = 16 d_h"),
        ("GQA g=2", 2, "2·2·d_h = 4 d_h"),
        ("MQA", 1, "2·d_h"),
        ("MLA", 0, "d_c + d_h^R\nDeepSeek：4.5 d_h"),
    ]
    g.text(246, 20, "每 token 每层缓存的元素", SMALL, color=INK2)
    for r, (name, groups, cost) in enumerate(rows):
        y = 40 + r * 74
        g.text(8, y + 22, name, 14, anchor="start", bold=True)
        for h in range(8):
            g.box(78 + h * 20, y, 16, 16, "", "blue")
        if groups:
            per = 8 // groups
            for k in range(groups):
                x_center = 78 + (k * per + (per - 1) / 2) * 20 + 8
                w = 18 if groups == 8 else 30
                g.box(x_center - w / 2, y + 40, w, 18, "", "orange")
                for h in range(k * per, (k + 1) * per):
                    g.arrow(78 + h * 20 + 8, y + 17, x_center, y + 39, arrow=False, width=1)
        else:
            g.box(78, y + 40, 104, 20, "c^KV + k^R", "purple", SMALL)
            for h in range(8):
                g.arrow(78 + h * 20 + 8, y + 17, 130, y + 39, arrow=False, width=1, dash=True)
        lines = cost.split("\n")
        for k, line in enumerate(lines):
            g.text(246, y + 30 + (k - (len(lines) - 1) / 2) * 18, line, 14, anchor="start")
    g.text(8, 340, "蓝：query 头；橙：缓存的 K/V 头；紫：MLA 缓存的潜向量", SMALL, anchor="start", color=INK2)
    return g


@diagram
def kv_cache_growth() -> Svg:
    g = Svg(
        "kv-cache-growth",
        400,
        250,
        "KV cache 的增长：prefill 一次算出 4 个 prompt token 的 K、V 存入缓存；之后每个 decode 步只为新 token 算 "
        "q、k、v，把 k、v 追加到缓存末尾，再用 q 对整个缓存做注意力；过去 token 的 query 不再需要。",
    )
    rows = [("prefill", 4, 0), ("decode 1", 5, 1), ("decode 2", 6, 1), ("decode 3", 7, 1)]
    cell = 30
    g.text(120 + 3.5 * cell, 18, "缓存里的 K/V（每层、每个 token 一列）", SMALL, color=INK2)
    for r, (label, n, new) in enumerate(rows):
        y = 36 + r * 48
        g.text(12, y + 14, label, 14, anchor="start", bold=True)
        for t in range(n):
            fresh = new and t == n - 1
            g.box(100 + t * cell, y, cell - 4, 28, f"{t + 1}", "green" if fresh else "orange", SMALL)
        if r:
            g.text(100 + n * cell + 4, y + 14, f"← q{n} 看 1–{n}", SMALL, anchor="start", color=INK2)
        else:
            g.text(100 + n * cell + 4, y + 14, "← 一次前向算出 1–4", SMALL, anchor="start", color=INK2)
    g.box(12, 226 - 14, 16, 16, "", "orange")
    g.text(34, 220, "已缓存", SMALL, anchor="start", color=INK2)
    g.box(100, 226 - 14, 16, 16, "", "green")
    g.text(122, 220, "本步新算并追加的 k、v（每步 1 列）", SMALL, anchor="start", color=INK2)
    return g


@diagram
def paged_kv_blocks() -> Svg:
    g = Svg(
        "paged-kv-blocks",
        400,
        286,
        "PagedAttention：每条序列的 KV cache 按 4 个 token 一块切成逻辑块，block table 把逻辑块映射到显存里"
        "任意位置的物理块；序列 A 和 B 共享同一个前缀物理块（引用计数 2，写时复制），浪费只剩各自最后一个未填满的块。",
    )
    g.text(70, 20, "逻辑块", 14, bold=True)
    g.text(200, 20, "block table", 14, bold=True)
    g.text(330, 20, "物理块（显存）", 14, bold=True)
    seqs = [("A", [(0, 4), (1, 4), (2, 2)], [7, 1, 3]), ("B", [(0, 4), (1, 3)], [7, 5])]
    y = 40
    rows_y = {}
    for name, blocks, phys in seqs:
        g.text(14, y + 12, name, 14, bold=True)
        for b, filled in blocks:
            yy = y + b * 30
            for t in range(4):
                g.rect(28 + t * 20, yy, 18, 24, "blue" if t < filled else "white", rx=2, dash=t >= filled)
            rows_y[(name, b)] = yy + 12
        g.box(
            150,
            y,
            100,
            len(blocks) * 30 - 6,
            "\n".join(f"{b} → #{p}" for (b, _f), p in zip(blocks, phys, strict=True)),
            "yellow",
            SMALL,
        )
        y += len(blocks) * 30 + 22
    for k in range(8):
        yy = 40 + k * 28
        shared = k == 7
        kind = "purple" if shared else ("blue" if k in (1, 3, 5) else "white")
        label = {7: "#7 A、B 共享", 1: "#1 A", 3: "#3 A（未满）", 5: "#5 B（未满）"}.get(k, f"#{k} 空闲")
        g.box(282, yy, 106, 24, label, kind, SMALL, dash=kind == "white")
    for name, blocks, phys in seqs:
        for (b, _f), p in zip(blocks, phys, strict=True):
            ys = rows_y[(name, b)]
            g.arrow(252, ys, 280, 40 + p * 28 + 12, width=1.2)
    g.text(200, 270, "块按需分配；共享块的引用计数为 2，谁要写就先复制", SMALL, color=INK2)
    return g


@diagram
def dp_tp_pp() -> Svg:
    g = Svg(
        "dp-tp-pp",
        400,
        250,
        "两张 GPU 上的三种切法（模型 4 层 L1–L4）：数据并行每卡一份完整模型、各算一半数据，反向后 AllReduce 梯度；"
        "张量并行把每一层的矩阵切成两半，每层都要 AllReduce 激活；流水线并行 GPU0 放 L1–L2、GPU1 放 L3–L4，"
        "只在 stage 边界点对点传激活。",
    )
    cols = [("数据并行 DP", 0), ("张量并行 TP", 135), ("流水线 PP", 270)]
    for title, x in cols:
        g.text(x + 65, 18, title, 14, bold=True)
    # DP: two full copies
    for gpu in range(2):
        x = 6 + gpu * 62
        g.rect(x, 32, 58, 150, "white", dash=True)
        g.text(x + 29, 46, f"GPU{gpu}", SMALL, color=INK2)
        for layer in range(4):
            g.box(x + 6, 150 - layer * 30, 46, 24, f"L{layer + 1}", "blue", SMALL)
        g.text(x + 29, 196, f"数据 {gpu + 1}/2", SMALL, color=INK2)
    g.text(65, 222, "AllReduce 梯度", SMALL)
    g.text(65, 240, "每步一次", SMALL, color=INK2)
    # TP: each layer split in halves
    for gpu in range(2):
        x = 141 + gpu * 62
        g.rect(x, 32, 58, 150, "white", dash=True)
        g.text(x + 29, 46, f"GPU{gpu}", SMALL, color=INK2)
        for layer in range(4):
            g.box(x + 6, 150 - layer * 30, 46, 24, f"L{layer + 1}/{gpu + 1}", "purple", SMALL)
    g.text(200, 196, "每层切一半", SMALL, color=INK2)
    g.text(200, 222, "AllReduce 激活", SMALL)
    g.text(200, 240, "每层前向、反向各 2 次", SMALL, color=INK2)
    # PP: layers split by stage
    for gpu in range(2):
        x = 276 + gpu * 62
        g.rect(x, 32, 58, 150, "white", dash=True)
        g.text(x + 29, 46, f"GPU{gpu}", SMALL, color=INK2)
        for k in range(2):
            layer = gpu * 2 + k
            g.box(x + 6, 150 - layer * 30, 46, 24, f"L{layer + 1}", "green", SMALL)
    g.arrow(334, 136, 346, 110)
    g.text(335, 196, "按层切 stage", SMALL, color=INK2)
    g.text(335, 222, "P2P 传激活", SMALL)
    g.text(335, 240, "只在 stage 边界", SMALL, color=INK2)
    return g


@diagram
def zero_sharding() -> Svg:
    phi, n = ZERO_EXAMPLE
    mem = zero_memory(phi, n)
    g = Svg(
        "zero-sharding",
        400,
        262,
        "4 张卡上 DDP 与 ZeRO-1/2/3 的模型状态：每卡一条，依次是参数（2Φ 字节）、梯度（2Φ）、优化器状态（12Φ）。"
        "DDP 三者都完整复制；ZeRO-1 把优化器状态分成 4 份各存 1 份；ZeRO-2 再分梯度；ZeRO-3 连参数也分。"
        "7.5B 参数、64 卡时每卡分别约 120、31.4、16.6、1.9 GB。",
    )
    rows = [("DDP", ()), ("ZeRO-1", ("o",)), ("ZeRO-2", ("o", "g")), ("ZeRO-3", ("o", "g", "p"))]
    seg = [("p", 2, "blue"), ("g", 2, "green"), ("o", 12, "orange")]
    unit = 3.6  # units per byte-per-parameter: a full bar is 16 × 3.6 = 57.6
    g.text(70 + 2 * 64, 22, "GPU0 … GPU3（N = 4）", SMALL, color=INK2)
    g.text(356, 14, "每卡", SMALL, color=INK2)
    g.text(356, 30, f"{fmt(phi)}B, N={n}", SMALL, color=INK2)
    for r, (name, sharded) in enumerate(rows):
        y = 42 + r * 44
        g.text(8, y + 12, name, 14, anchor="start", bold=True)
        for gpu in range(4):
            x = 70 + gpu * 64
            for key, nbytes, kind in seg:
                w = nbytes * unit
                if key in sharded:
                    g.rect(x, y, w, 24, "white", rx=0, dash=True, stroke_width=0.8)
                    g.rect(x + gpu * w / 4, y, w / 4, 24, kind, rx=0, stroke_width=0.8)
                else:
                    g.rect(x, y, w, 24, kind, rx=0, stroke_width=0.8)
                x += w
        g.text(356, y + 12, f"{mem[name]:.1f} GB" if mem[name] < 100 else f"{mem[name]:.0f} GB", 14)
    y = 222
    for k, (label, kind) in enumerate((("参数 2Φ", "blue"), ("梯度 2Φ", "green"), ("优化器 12Φ", "orange"))):
        g.box(8 + k * 110, y, 14, 14, "", kind)
        g.text(28 + k * 110, y + 7, label, SMALL, anchor="start", color=INK2)
    g.text(8, 250, "虚线框：该卡只存 1/N 的那一份", SMALL, anchor="start", color=INK2)
    return g


def _schedule(g: Svg, y0: float, p: int, m: int, kind: str, cell: float, x0: float, bubble_label: bool) -> None:
    start = pipeline_schedule(p, m, kind)
    total = max(start.values()) + 1
    busy = {(s, t): (op, i) for (s, op, i), t in start.items()}
    for s in range(p):
        y = y0 + s * 22
        g.text(x0 - 6, y + 10, f"GPU{s}", SMALL, anchor="end", color=INK2)
        for t in range(total):
            x = x0 + t * cell
            if (s, t) in busy:
                op, i = busy[(s, t)]
                g.box(x, y, cell, 20, str(i + 1), "blue" if op == "F" else "green", SMALL)
            else:
                g.rect(x, y, cell, 20, "red" if bubble_label else "grey", rx=0, stroke_width=0.6)


@diagram
def pipeline_bubble() -> Svg:
    p, m = 4, 4
    total, idle, _ = schedule_stats(pipeline_schedule(p, m, "gpipe"), p, m)
    g = Svg(
        "pipeline-bubble",
        400,
        196,
        "GPipe 调度，4 个 stage、4 个 micro-batch，前向和反向各占一格：先全部前向再全部反向，"
        "流水线填充和排空时的空闲格就是 bubble，占 (p−1)/(m+p−1) = 3/7 ≈ 43%。",
    )
    cell = 22
    g.text(200, 18, f"GPipe：p = {p} 个 stage，m = {m} 个 micro-batch", 14, bold=True)
    _schedule(g, 34, p, m, "gpipe", cell, 60, True)
    g.text(60 + total * cell / 2, 134, f"时间 → 共 2(m+p−1) = {total} 格", SMALL, color=INK2)
    legend = (("前向", "blue"), ("反向", "green"), ("bubble（空闲）", "red"))
    for k, (label, kind) in enumerate(legend):
        g.box(20 + k * 100, 150, 14, 14, "", kind)
        g.text(40 + k * 100, 157, label, SMALL, anchor="start", color=INK2)
    g.text(200, 178, f"bubble = (p−1)/(m+p−1) = 3/7 ≈ {idle:.0%}", 14, bold=True)
    return g


@diagram
def pipeline_1f1b() -> Svg:
    p, m = 4, 8
    g = Svg(
        "pipeline-1f1b",
        400,
        320,
        "4 个 stage、8 个 micro-batch 时 GPipe 与 1F1B 调度的对比（前向、反向各占一格）：两者总时长都是 22 格、"
        "bubble 都是 3/11；但 GPipe 的 GPU0 要同时缓存 8"
        " 份激活，1F1B 预热后前向、反向交替，最多只缓存 4 份（约 p 份）。",
    )
    cell = 14
    for k, kind in enumerate(("gpipe", "1f1b")):
        start = pipeline_schedule(p, m, kind)
        total, _idle, peaks = schedule_stats(start, p, m)
        y0 = 32 + k * 132
        title = "GPipe" if kind == "gpipe" else "1F1B（PipeDream-Flush）"
        g.text(200, y0 - 14, title, 14, bold=True)
        _schedule(g, y0, p, m, kind, cell, 54, False)
        g.text(200, y0 + 100, f"GPU0 最多同时缓存 {peaks[0]} 份激活", SMALL, color=INK2)
    g.text(200, 284, f"两者都是 {total} 格，bubble = (p−1)/(m+p−1) = 3/11", SMALL)
    g.box(20, 306 - 7, 12, 12, "", "blue")
    g.text(36, 306, "前向", SMALL, anchor="start", color=INK2)
    g.box(80, 306 - 7, 12, 12, "", "green")
    g.text(96, 306, "反向", SMALL, anchor="start", color=INK2)
    g.box(140, 306 - 7, 12, 12, "", "grey")
    g.text(156, 306, "空闲", SMALL, anchor="start", color=INK2)
    g.text(390, 306, "格中数字 = micro-batch", SMALL, anchor="end", color=INK2)
    return g


@diagram
def ring_allreduce_steps() -> Svg:
    n = 4
    states = ring_allreduce(n)
    g = Svg(
        "ring-allreduce-steps",
        400,
        300,
        "4 张卡的 Ring AllReduce：数据切成 4 块，格中数字是这块已经累加了几张卡的数据。Reduce-Scatter 3 步后"
        "每卡各有一块完整的和（4）；All-Gather 再 3 步把它传遍全环，共 2(N−1) = 6 步，每步每卡只发 1/N 的数据。",
    )
    g.text(200, 16, "格中数字 = 这一块已累加了几张卡（4 = 全局和）", SMALL, color=INK2)
    labels = ["初始", "RS 1", "RS 2", "RS 3", "AG 1", "AG 2", "AG 3"]
    sq = 14
    for gpu in range(n):
        g.text(90 + gpu * 76 + 2 * sq, 36, f"GPU{gpu}", SMALL, bold=True)
    for step, row in enumerate(states):
        y = 48 + step * 30
        g.text(10, y + sq / 2 + 2, labels[step], SMALL, anchor="start", bold=step in (0,))
        for gpu in range(n):
            for c in range(n):
                count = len(row[gpu][c])
                x = 90 + gpu * 76 + c * (sq + 1)
                kind = "green" if count == n else ("blue" if count > 1 else "white")
                g.box(x - 1, y, sq + 1, sq + 4, str(count), kind, SMALL)
    g.arrow(58, 64, 58, 132, arrow=True)
    g.text(200, 270, "Reduce-Scatter N−1 步 + All-Gather N−1 步 = 6 步", SMALL)
    g.text(200, 290, "每卡共发送 2(N−1)/N · K ≈ 2K", SMALL, color=INK2)
    return g


@diagram
def tensor_parallel_mlp() -> Svg:
    g = Svg(
        "tensor-parallel-mlp",
        400,
        226,
        "Megatron 张量并行的 MLP，两张卡：A 按列切成 A1、A2，每卡算 GeLU(X·Ai)，非线性在本地完成；"
        "B 按行切成 B1、B2，每卡得到部分和 Yi = GeLU(X·Ai)·Bi，最后一次 AllReduce 求和得到 Y。",
    )
    g.box(8, 88, 44, 40, "X", "yellow", 15)
    for gpu in range(2):
        y = 34 + gpu * 100
        g.text(100, y - 14, f"GPU{gpu}", SMALL, color=INK2)
        g.box(68, y, 64, 44, f"X·A{gpu + 1}\n(列切)", "blue", SMALL)
        g.box(148, y, 58, 44, "GeLU", "blue", SMALL)
        g.box(222, y, 64, 44, f"·B{gpu + 1}\n(行切)", "purple", SMALL)
        g.arrow(52, 108, 66, y + 22)
        g.arrow(132, y + 22, 146, y + 22)
        g.arrow(206, y + 22, 220, y + 22)
        g.text(254, y + 58, f"Y{gpu + 1}（部分和）", SMALL, color=INK2)
        g.arrow(286, y + 22, 304, 108)
    g.box(306, 84, 86, 48, "AllReduce\nY = Y1 + Y2", "green", SMALL)
    g.text(200, 214, "A 列切：GeLU 前不用通信；B 行切：末尾一次 AllReduce", SMALL, color=INK2)
    return g


@diagram
def lora_path() -> Svg:
    g = Svg(
        "lora-path",
        400,
        284,
        "LoRA：预训练权重 W0（d×k）冻结，旁路上 x 先乘 A（r×k，随机初始化）降到 r 维，再乘 B（d×r，初始化为 0）"
        "升回 d 维，乘以 α/r 后与 W0·x 相加：h = W0·x + (α/r)·B·A·x。可训练参数从 dk 降到 r(d+k)。",
    )
    g.text(200, 266, "输入 x（k 维）", 14, color=INK2)
    g.arrow(200, 252, 200, 238, arrow=False)
    g.line([(200, 238), (110, 238), (110, 214)])
    g.line([(200, 238), (290, 238), (290, 214)])
    g.box(40, 90, 140, 122, "W0\nd × k\n冻结", "grey", 15)
    # A: a trapezoid narrowing to r, B: widening back to d
    g.parts.append(
        f'<polygon points="236,212 344,212 310,168 270,168" fill="{KINDS["purple"][0]}" '
        f'stroke="{KINDS["purple"][1]}" stroke-width="1.2"/>'
    )
    g.text(290, 194, "A：r × k", SMALL)
    g.text(372, 192, "随机", SMALL, color=INK2)
    g.parts.append(
        f'<polygon points="270,150 310,150 344,106 236,106" fill="{KINDS["purple"][0]}" '
        f'stroke="{KINDS["purple"][1]}" stroke-width="1.2"/>'
    )
    g.text(290, 126, "B：d × r", SMALL)
    g.text(372, 128, "初始 0", SMALL, color=INK2)
    g.arrow(290, 168, 290, 152)
    g.text(232, 159, "r 维", SMALL, color=INK2)
    g.line([(110, 90), (110, 62), (188, 62)])
    g.line([(290, 106), (290, 62), (212, 62)])
    g.text(318, 84, "× α/r", 14, bold=True)
    g.circle(200, 62, 12, "white", "+", 16)
    g.arrow(200, 50, 200, 34)
    g.text(200, 20, "h = W0·x + (α/r)·B·A·x", 15, bold=True)
    return g


@diagram
def moe_top2_routing() -> Svg:
    gates = top_k_gates(MOE_LOGITS, 2)
    a, b = sorted(gates)
    g = Svg(
        "moe-top2-routing",
        400,
        292,
        f"MoE 的 top-2 路由：router 为一个 token 给 8 个专家打分，取分数最高的专家 {a + 1} 和 {b + 1}，只在这两个上做"
        f" softmax 得到门控 {gates[a]:.2f} 和 {gates[b]:.2f}；只有这两个专家计算，输出按门控加权求和，其余专家不计算。",
    )
    g.box(160, 248, 80, 30, "token x", "yellow", 14)
    g.arrow(200, 248, 200, 232)
    g.box(130, 200, 140, 30, "router  s = x·W_r", "blue", SMALL)
    for e, s in enumerate(MOE_LOGITS):
        x = 24 + e * 46
        chosen = e in gates
        g.box(x, 118, 38, 44, f"E{e + 1}", "purple" if chosen else "grey", SMALL, dash=not chosen)
        g.text(x + 19, 178, fmt(s), SMALL, color=INK if chosen else INK2, bold=chosen)
        g.line([(200, 200), (x + 19, 188)], arrow=False, width=0.8, color=EDGE)
    g.text(8, 190, "s:", SMALL, anchor="start", color=INK2)
    for e in (a, b):
        x = 24 + e * 46
        g.arrow(x + 19, 118, 200, 74)
        g.text(x + 19 + (-24 if e == a else 24), 98, f"g = {gates[e]:.2f}", SMALL, bold=True)
    g.box(90, 44, 220, 30, f"y = {gates[a]:.2f}·E{a + 1}(x) + {gates[b]:.2f}·E{b + 1}(x)", "green", SMALL)
    g.text(200, 20, "top-2：只在选中的 2 个专家上做 softmax", SMALL, color=INK2)
    return g


@diagram
def quantization_affine_mapping() -> Svg:
    x_min, x_max, x = QUANT_EXAMPLE
    s, z = affine_params(x_min, x_max)
    q = quantize(x, s, z)
    x_hat = s * (q - z)
    g = Svg(
        "quantization-affine-mapping",
        400,
        262,
        f"非对称 UINT8 量化：浮点区间 {x_min} 到 {x_max} 线性映射到整数 0 到 255。s = 2.0/255 ≈ {s:.5f}，"
        f"z = round(0 − ({x_min})/s) = {z}，浮点 0 恰好落在整数 {z} 上；x = {x} 量化为 q = {q}，"
        f"反量化 s·(q − z) ≈ {x_hat:.4f}，误差不超过 s/2。",
    )
    left, right = 52, 348

    def fx(v: float) -> float:
        return left + (v - x_min) / (x_max - x_min) * (right - left)

    def qx(v: float) -> float:
        return left + v / 255 * (right - left)

    g.text(200, 20, "浮点 x", 14, bold=True)
    g.arrow(left - 10, 56, right + 14, 56)
    for v, label in ((x_min, f"x_min = {x_min}"), (0.0, "0"), (x, f"x = {x}"), (x_max, f"x_max = {x_max}")):
        g.arrow(fx(v), 50, fx(v), 62, arrow=False, width=1.5)
        g.text(fx(v), 40, label, SMALL)
    g.text(200, 214, "整数 q（UINT8）", 14, bold=True)
    g.arrow(left - 10, 176, right + 14, 176)
    for v, label in ((0, "0"), (z, f"z = {z}"), (q, f"q = {q}"), (255, "255")):
        g.arrow(qx(v), 170, qx(v), 182, arrow=False, width=1.5)
        g.text(qx(v), 194, label, SMALL)
    for fv, qv, strong in ((x_min, 0, False), (0.0, z, True), (x, q, True), (x_max, 255, False)):
        g.arrow(fx(fv), 64, qx(qv), 168, dash=not strong, color="#2563eb" if strong else LINE)
    g.box(80, 96, 240, 46, f"s = (x_max − x_min)/255 ≈ {s:.5f}\nq = round(x/s) + z", "white", SMALL)
    g.text(200, 240, f"反量化 x̂ = s·(q − z) ≈ {x_hat:.4f}，误差 ≤ s/2", SMALL, color=INK2)
    return g


@diagram
def quantization_granularity() -> Svg:
    g = Svg(
        "quantization-granularity",
        400,
        196,
        "一个 4×8 权重矩阵（每行是一个输出通道）的三种量化粒度，同色的格子共用一组 scale："
        "per-tensor 整个矩阵 1 组；per-channel 每行 1 组，共 4 组；per-group（g = 4）每行每 4 个元素 1 组，共 8 组。",
    )
    palettes = ["blue", "green", "orange", "purple", "yellow", "red", "grey", "white"]
    panels = [
        ("per-tensor", lambda r, c: 0, "1 组 scale"),
        ("per-channel", lambda r, c: r, "4 组（每行 1 组）"),
        ("per-group g=4", lambda r, c: r * 2 + c // 4, "8 组（每 4 个 1 组）"),
    ]
    cell = 14
    for k, (title, group, note) in enumerate(panels):
        x0 = 10 + k * 132
        g.text(x0 + 4 * cell, 22, title, 14, bold=True)
        for r in range(4):
            for c in range(8):
                g.rect(x0 + c * cell, 40 + r * cell, cell, cell, palettes[group(r, c)], rx=0, stroke_width=0.8)
        g.text(x0 + 4 * cell, 116, note, SMALL, color=INK2)
    g.text(10, 146, "行 = 输出通道；同色 = 共用一组 scale / zero-point", SMALL, anchor="start", color=INK2)
    g.text(10, 170, "粒度越细误差越小，但要多存 scale（INT4、g=128：", SMALL, anchor="start", color=INK2)
    g.text(10, 188, "每组一个 FP16 scale，约多 0.125 bit/权重）", SMALL, anchor="start", color=INK2)
    return g


@diagram
def speculative_decoding_verify() -> Svg:
    g = Svg(
        "speculative-decoding-verify",
        400,
        276,
        "投机解码的一轮：草稿模型依次猜 4 个 token d1–d4；目标模型一次前向并行验证这 4 个位置；"
        "d1、d2 被接受，d3 被拒绝，在该位置从修正分布 norm(max(0, p − q)) 重新采样一个 token，d4 丢弃。"
        "这一轮目标模型前向 1 次，产出 3 个 token；若 4 个全被接受，还能多得第 5 个。",
    )
    g.text(200, 18, "① 草稿模型自回归猜 k = 4 个（便宜）", SMALL, bold=True)
    g.box(10, 34, 76, 30, "前缀", "yellow", SMALL)
    for i in range(4):
        g.box(100 + i * 72, 34, 60, 30, f"d{i + 1}", "blue", 14)
        if i:
            g.arrow(100 + i * 72 - 12, 49, 100 + i * 72 - 2, 49)
    g.box(10, 90, 380, 46, "② 目标模型（大）一次前向\n并行算出这 4 个位置（及下一位）的 p", "purple", SMALL)
    for i in range(4):
        g.arrow(130 + i * 72, 66, 130 + i * 72, 88)
    for k, line in enumerate(("③ 按", "min(1, p/q)", "逐个接受")):
        g.text(10, 170 + k * 18, line, SMALL, anchor="start", bold=True)
    verdicts = [("d1 ✓", "green"), ("d2 ✓", "green"), ("d3 ✗", "red"), ("d4 丢弃", "grey")]
    for i, (label, kind) in enumerate(verdicts):
        g.box(100 + i * 72, 173, 60, 30, label, kind, SMALL, dash=kind == "grey")
        g.arrow(130 + i * 72, 138, 130 + i * 72, 171)
    g.box(244, 230, 60, 30, "t3", "orange", 14)
    g.arrow(274, 205, 274, 228)
    g.text(10, 236, "d3 处改从", SMALL, anchor="start", color=INK2)
    g.text(10, 254, "norm(max(0, p−q)) 采样 →", SMALL, anchor="start", color=INK2)
    g.text(316, 238, "本轮 3 个", SMALL, anchor="start")
    g.text(316, 256, "token", SMALL, anchor="start")
    return g


@diagram
def ppo_rlhf_loop() -> Svg:
    g = Svg(
        "ppo-rlhf-loop",
        400,
        340,
        "PPO-RLHF 的一次迭代：① actor 对一批 prompt 采样回复；② 奖励模型给整条回复打分，reference 和 actor "
        "算每个 token 的 log-prob 得到 KL，critic 算每个 token 的价值；③ 组装逐 token 奖励（KL 惩罚加末尾的 RM 分数），"
        "用 GAE 算优势和回报；④ 切 minibatch 跑几个 PPO epoch，更新 actor 和 critic；⑤ 把新权重同步给推理引擎。",
    )
    g.box(10, 20, 110, 34, "一批 prompt", "yellow", 14)
    g.box(150, 14, 160, 46, "① Actor 采样回复\n（推理引擎，可训练）", "blue", SMALL)
    g.arrow(120, 37, 148, 37)
    # ② heading on the left, clear of the fan-out: ① → a bus at y = 94 → one arrow down into each model
    g.text(10, 78, "② 打分 / 前向（同一批回复）", SMALL, anchor="start", bold=True)
    models = [
        ("奖励模型\n整条分数", "grey"),
        ("Reference\nlog-prob", "grey"),
        ("Actor\nlog π_old", "blue"),
        ("Critic\n价值 V(s_t)", "green"),
    ]
    g.line([(230, 60), (230, 94)], arrow=False, width=1)
    g.line([(54, 94), (342, 94)], arrow=False, width=1)
    for k, (label, kind) in enumerate(models):
        g.box(10 + k * 96, 110, 88, 44, label, kind, SMALL)
        g.arrow(54 + k * 96, 94, 54 + k * 96, 108, width=1)
    g.box(40, 184, 320, 46, "③ r_t = −β·KL_t（末 token 再加 RM 分数）\nGAE → 优势 A_t、回报 R_t", "orange", SMALL)
    for x_from, x_to in ((54, 54), (150, 200), (246, 200), (342, 342)):
        g.arrow(x_from, 154, x_to, 182, width=1)
    g.box(40, 250, 320, 46, "④ 几个 PPO epoch（minibatch）\nactor：clip 损失；critic：价值损失", "blue", SMALL)
    g.arrow(200, 230, 200, 248)
    g.line([(360, 273), (388, 273), (388, 37), (312, 37)])
    g.text(10, 320, "⑤ 新权重同步给推理引擎，回到 ①", SMALL, anchor="start", color=INK2)
    g.text(376, 320, "灰 = 冻结", SMALL, anchor="end", color=INK2)
    return g


@diagram
def grpo_group_advantage() -> Svg:
    g = Svg(
        "grpo-group-advantage",
        400,
        304,
        "GRPO 的一步：对同一个问题 q 采样 G 个回答，奖励模型或规则给每个回答打分 r_i，用组内均值和标准差"
        "标准化得到优势 A_i = (r_i − mean)/std，回答里每个 token 都用这个 A_i；没有 critic，基线就是组内平均奖励。",
    )
    g.box(150, 12, 100, 30, "问题 q", "yellow", 14)
    g.arrow(200, 42, 200, 56)
    g.box(120, 58, 160, 30, "策略 π_θ 采样 G 个", "blue", SMALL)
    xs = (20, 106, 192, 304)  # o1, o2, o3, then a gap for "…", then o_G
    for i, x in enumerate(xs):
        label = f"o{i + 1}" if i < 3 else "o_G"
        g.box(x, 108, 76, 28, label, "white", 14)
        g.arrow(200, 88, x + 38, 106, width=1)
        g.box(x, 152, 76, 28, f"r{i + 1}" if i < 3 else "r_G", "green", 14)
        g.arrow(x + 38, 136, x + 38, 150)
    for y in (122, 166):
        g.text(286, y, "…", 14)
    g.box(20, 198, 360, 34, "A_i = (r_i − mean(r)) / std(r)", "orange", 14)
    for x in xs:
        g.arrow(x + 38, 180, x + 38, 196, width=1)
    g.text(200, 250, "o_i 的每个 token 都用同一个 A_i", SMALL, color=INK2)
    g.text(200, 270, "最大化：clip 目标 − β·KL(π_θ‖π_ref)", SMALL, color=INK2)
    g.text(200, 290, "没有 critic：组内平均奖励就是基线；全对或全错 → A = 0", SMALL, color=INK2)
    return g


@diagram
def rlhf_three_stages() -> Svg:
    g = Svg(
        "rlhf-three-stages",
        400,
        258,
        "RLHF 三阶段：① 用人工示范数据监督微调预训练模型得到 π_SFT；② 对同一 prompt 的多个回复由人标注偏好，"
        "用成对损失训练奖励模型 r_φ；③ 以 r_φ 的分数为奖励用 PPO 优化从 π_SFT 初始化的策略，同时用 KL 惩罚"
        "它偏离冻结的参考模型 π_ref = π_SFT。",
    )
    stages = [
        ("① SFT", "人工示范\n(prompt, 回复)", "预训练模型 → π_SFT"),
        ("② 奖励模型", "同一 prompt 的回复\n人标注 A ≻ B", "成对损失 → r_φ(x, y)"),
        ("③ RL（PPO）", "新 prompt\nπ_θ 采样回复", "max E[r_φ]\n− β·KL(π_θ‖π_ref)"),
    ]
    for k, (title, data, model) in enumerate(stages):
        y = 14 + k * 80
        g.text(8, y + 23, title, 14, anchor="start", bold=True)
        g.box(98, y, 134, 46, data, "yellow", SMALL)
        g.arrow(232, y + 23, 246, y + 23)
        g.box(248, y, 144, 46, model, "blue", SMALL)
    g.arrow(320, 60, 320, 92)
    g.text(312, 76, "π_SFT 采样", SMALL, anchor="end", color=INK2)
    g.arrow(360, 140, 360, 172)
    g.text(350, 156, "r_φ 给奖励", SMALL, anchor="end", color=INK2)
    g.text(200, 246, "π_θ 从 π_SFT 初始化；π_ref = π_SFT 冻结，只用来算 KL", SMALL, color=INK2)
    return g


@diagram
def rag_pipeline() -> Svg:
    g = Svg(
        "rag-pipeline",
        400,
        262,
        "RAG 的两条流水线：离线建索引——文档解析清洗（保留元数据）、切块、用嵌入模型编码并建 BM25 倒排索引、写入"
        "向量索引；在线查询——query 改写与路由、稀疏加稠密召回几十到上百"
        "个候选并融合过滤、cross-encoder 重排取 top 3–10、"
        "带编号拼进 prompt 生成带引用的答案。",
    )
    g.text(10, 20, "离线：建索引", 14, anchor="start", bold=True)
    off = [
        ("1 Ingest\n解析·清洗", "yellow"),
        ("2 Chunk\n切块", "yellow"),
        ("3 Embed\n+ BM25", "blue"),
        ("4 Index\nHNSW 等", "orange"),
    ]
    for k, (label, kind) in enumerate(off):
        x = 10 + k * 98
        g.box(x, 32, 84, 46, label, kind, SMALL)
        if k:
            g.arrow(x - 14, 55, x - 2, 55)
    g.text(10, 112, "在线：每次查询", 14, anchor="start", bold=True)
    on = [
        ("5 Query\n改写·路由", "yellow"),
        ("6 Retrieve\n召回 ~100", "blue"),
        ("7 Rerank\ntop 3–10", "blue"),
        ("8 Generate\n带引用", "green"),
    ]
    for k, (label, kind) in enumerate(on):
        x = 10 + k * 98
        g.box(x, 124, 84, 46, label, kind, SMALL)
        if k:
            g.arrow(x - 14, 147, x - 2, 147)
    g.line([(346, 78), (346, 98), (150, 98), (150, 122)], dash=True)
    g.text(250, 92, "索引供召回", SMALL, color=INK2)
    g.text(200, 196, "召回求 recall（便宜、量大），重排求 precision（贵、量小）", SMALL, color=INK2)
    g.text(200, 218, "每一步都可能丢信息：先查召回率，再查生成忠实度", SMALL, color=INK2)
    g.text(200, 244, "稀疏 + 稠密召回用 RRF 等方法融合，并按权限过滤", SMALL, color=INK2)
    return g


@diagram
def react_loop() -> Svg:
    g = Svg(
        "react-loop",
        400,
        268,
        "ReAct 循环：模型先写 Thought（推理下一步查什么），再写 Action（调用工具）；运行时执行工具，把结果作为 "
        "Observation 填回上下文（不是模型生成的）；模型据此继续 Thought，循环直到给出最终答案，或达到最大步数。",
    )
    g.box(40, 12, 150, 30, "问题", "yellow", 14)
    g.arrow(115, 42, 115, 58)
    g.box(40, 60, 150, 46, "Thought\n推理、决定下一步", "blue", SMALL)
    g.box(210, 60, 150, 46, "Action\n调用工具", "blue", SMALL)
    g.box(210, 150, 150, 46, "工具 / 环境\n搜索、查库、执行代码", "white", SMALL)
    g.box(40, 150, 150, 46, "Observation\n运行时填回结果", "green", SMALL)
    g.arrow(190, 83, 208, 83)
    g.arrow(285, 106, 285, 148)
    g.arrow(210, 173, 192, 173)
    g.arrow(115, 150, 115, 108)
    g.box(40, 222, 150, 34, "最终答案", "blue", 14)
    g.arrow(40, 83, 20, 83, arrow=False)
    g.line([(20, 83), (20, 239), (38, 239)])
    g.text(24, 214, "够了", SMALL, anchor="start", color=INK2)
    g.text(290, 222, "蓝 = 模型生成", SMALL, color=INK2)
    g.text(290, 242, "绿 = 运行时填入", SMALL, color=INK2)
    return g


@diagram
def clip_contrastive_matrix() -> Svg:
    n = 4
    g = Svg(
        "clip-contrastive-matrix",
        400,
        298,
        "CLIP 的对比损失：batch 内 4 个图文对，行是图像嵌入 u_i，列是文本嵌入 v_j，格子是相似度 s_ij = u_iᵀv_j"
        "（嵌入已 L2 归一化），交叉熵作用在除以温度后的 s_ij/τ 上。"
        "对角线是配对的正例，其余 N−1 个都是负例；按行做交叉熵得图→文损失，按列做得文→图损失，取平均。",
    )
    cell = 42
    x0, y0 = 112, 50
    g.text(x0 + n * cell / 2, 18, "文本 v_1 … v_4", 14, bold=True)
    g.text(44, y0 + n * cell / 2 - 10, "图像", 14, bold=True)
    g.text(44, y0 + n * cell / 2 + 10, "u_1 … u_4", SMALL, color=INK2)
    for j in range(n):
        g.text(x0 + j * cell + cell / 2, 38, f"v{j + 1}", SMALL, color=INK2)
    for i in range(n):
        g.text(x0 - 12, y0 + i * cell + cell / 2, f"u{i + 1}", SMALL, color=INK2)
        for j in range(n):
            pos = i == j
            kind = "green" if pos else "white"
            g.box(x0 + j * cell, y0 + i * cell, cell, cell, f"s{i + 1}{j + 1}", kind, SMALL, bold=pos)
    right = x0 + n * cell
    g.arrow(right + 8, y0 + cell / 2, right + 34, y0 + cell / 2)
    g.text(right + 40, y0 + cell / 2 - 9, "每行 CE", SMALL, anchor="start")
    g.text(right + 40, y0 + cell / 2 + 9, "→ L_i→t", SMALL, anchor="start")
    bottom = y0 + n * cell
    g.arrow(x0 + cell / 2, bottom + 6, x0 + cell / 2, bottom + 28)
    g.text(x0 + cell + 8, bottom + 17, "每列 CE → L_t→i", SMALL, anchor="start")
    g.text(200, 262, "s_ij = u_iᵀv_j（已 L2 归一化）；CE 用 s_ij/τ（τ：温度）", SMALL, color=INK2)
    g.text(200, 282, "L = (L_i→t + L_t→i)/2；对角线 = 正例，其余都是负例", SMALL, color=INK2)
    return g


@diagram
def attention_shapes() -> Svg:
    g = Svg(
        "attention-shapes",
        400,
        240,
        "缩放点积注意力的形状：Q（n×d_k）乘 K 的转置（d_k×m）得到 n×m 的分数矩阵，除以 √d_k 后按行做 softmax，"
        "再乘 V（m×d_v）得到 n×d_v 的输出，每一行是 value 的加权平均。",
    )
    u = 14  # units per dimension step: n = 4, m = 6, d_k = d_v = 3
    g.box(10, 40, 3 * u, 4 * u, "Q", "blue", 14)
    g.text(10 + 1.5 * u, 40 + 4 * u + 14, "n×d_k", SMALL, color=INK2)
    g.text(64, 68, "×", 16)
    g.box(76, 47, 6 * u, 3 * u, "Kᵀ", "orange", 14)
    g.text(76 + 3 * u, 47 + 3 * u + 14, "d_k×m", SMALL, color=INK2)
    g.text(172, 68, "=", 16)
    g.box(184, 40, 6 * u, 4 * u, "S", "purple", 14)
    g.text(184 + 3 * u, 40 + 4 * u + 14, "n×m", SMALL, color=INK2)
    g.text(200, 20, "S = Q·Kᵀ / √d_k", 14, bold=True)
    g.arrow(184 + 6 * u + 6, 68, 184 + 6 * u + 40, 68)
    g.text(320, 52, "softmax", SMALL)
    g.text(320, 86, "按行", SMALL, color=INK2)
    g.box(30, 140, 6 * u, 4 * u, "P", "purple", 14)
    g.text(30 + 3 * u, 140 + 4 * u + 14, "n×m，每行和为 1", SMALL, color=INK2)
    g.text(130, 168, "×", 16)
    g.box(144, 126, 3 * u, 6 * u, "V", "green", 14)
    g.text(144 + 1.5 * u, 126 + 6 * u + 14, "m×d_v", SMALL, color=INK2)
    g.text(204, 168, "=", 16)
    g.box(218, 140, 3 * u, 4 * u, "O", "blue", 14)
    g.text(218 + 1.5 * u, 140 + 4 * u + 14, "n×d_v", SMALL, color=INK2)
    g.text(330, 168, "每行 = V 的", SMALL, color=INK2)
    g.text(330, 186, "加权平均", SMALL, color=INK2)
    return g


@diagram
def flashattention_tiling() -> Svg:
    g = Svg(
        "flashattention-tiling",
        400,
        278,
        "FlashAttention（按 FlashAttention-2 的循环顺序）：Q、K、V、O 在 HBM；外层取一个 Q 块 Qi 放进 SRAM，"
        "内层依次载入 Kj、Vj 块，在 SRAM 里算分数块 Sij、用 onl"
        "ine softmax 更新每行的最大值 m 和指数和 l 并缩放累加输出；"
        "一行块算完只把 Oi 和每行的 logsumexp L_i = m + log l（供反向重算）写回 HBM，n×n 的分数矩阵从不写回 HBM。",
    )
    g.rect(8, 30, 120, 196, "white")
    g.text(68, 18, "HBM（大、慢）", 14, bold=True)
    for k, (label, kind) in enumerate((("Q", "blue"), ("K", "orange"), ("V", "green"), ("O、L", "blue"))):
        g.box(20, 44 + k * 44, 96, 34, label, kind, 14)
    g.rect(170, 30, 222, 196, "yellow")
    g.text(281, 18, "SRAM（片上，小、快）", 14, bold=True)
    # The blocks in SRAM sit level with their tensors in HBM, so every load is a straight arrow that
    # crosses nothing; the computation runs down a second column.
    for k, (label, kind) in enumerate((("Qi", "blue"), ("Kj", "orange"), ("Vj", "green"))):
        g.box(182, 44 + k * 44, 50, 34, label, kind, 14)
        g.arrow(116, 61 + k * 44, 180, 61 + k * 44, width=1.5 if k == 0 else 1)
    g.box(244, 44, 140, 32, "Sij = Qi·Kjᵀ", "purple", SMALL)
    g.box(244, 90, 140, 58, "online softmax\n更新 m、l\n缩放后累加 Oi", "orange", SMALL)
    g.box(244, 162, 140, 58, "j 走完 → 写回\nOi 和 logsumexp\nL_i = m + log l", "green", SMALL)
    g.arrow(232, 61, 242, 61, width=1)  # Qi → Sij
    g.arrow(232, 100, 242, 74, width=1)  # Kj → Sij
    g.arrow(232, 143, 242, 143, width=1)  # Vj → accumulate Oi
    g.arrow(314, 76, 314, 88)
    g.arrow(314, 148, 314, 160)
    g.arrow(244, 200, 118, 200)  # write back to HBM
    g.text(200, 244, "外层：Q 块 i；内层：K/V 块 j = 1, 2, …", SMALL, color=INK2)
    g.text(200, 262, "n×n 的分数矩阵从不写回 HBM；反向用 L_i 重算", SMALL, color=INK2)
    return g


@diagram
def mla_latent_kv() -> Svg:
    g = Svg(
        "mla-latent-kv",
        400,
        256,
        "MLA 的 KV 压缩：h_t 下投影成 d_c = 512 维的潜向量 c^KV 并缓存；各头的 K^C、V 由上投影 W^UK、W^UV 从同一个 "
        "c^KV 还原；另由 W^KR 加 RoPE 算出 64 维、所有头共享的 k^R 也缓存；每头的 key 是 k^C_i 与 k^R 拼接。"
        "每层每 token 缓存 512 + 64 = 576 个元素。",
    )
    g.box(150, 214, 100, 30, "h_t", "yellow", 14)
    g.arrow(180, 214, 110, 184)
    g.arrow(220, 214, 300, 184)
    g.box(30, 142, 160, 40, "c^KV = W^DKV·h_t\nd_c = 512", "orange", SMALL)
    g.box(218, 142, 172, 40, "k^R = RoPE(W^KR·h_t)\nd_h^R = 64，各头共享", "orange", SMALL)
    g.arrow(70, 142, 70, 112)
    g.arrow(150, 142, 150, 112)
    g.box(20, 72, 100, 38, "W^UK\n→ 各头 k^C_i", "purple", SMALL)
    g.box(130, 72, 80, 38, "W^UV\n→ 各头 v_i", "purple", SMALL)
    g.arrow(70, 72, 150, 44)
    g.arrow(305, 142, 250, 44)
    g.box(110, 12, 180, 32, "每头 key = [k^C_i ; k^R]", "blue", SMALL)
    g.text(330, 208, "缓存（橙）：", SMALL, color=INK2)
    g.text(330, 228, "512 + 64 = 576", 14, bold=True)
    return g


@diagram
def pd_disaggregation() -> Svg:
    g = Svg(
        "pd-disaggregation",
        400,
        256,
        "PD 分离：请求先到 prefill 实例，一次处理整个 prompt 并产"
        "出首个 token（计算受限，决定 TTFT），算出的 KV cache 经 "
        "NVLink 或 RDMA 传给 decode 实例；decode 实例大 batc"
        "h 逐个生成后续 token（显存带宽受限，决定 TPOT）。两类实例可独立扩缩容、"
        "用不同并行度或 GPU。",
    )
    g.box(10, 90, 70, 40, "请求", "yellow", 14)
    g.box(100, 60, 110, 100, "Prefill 实例\n整段 prompt\n计算受限\n→ TTFT", "blue", SMALL)
    g.box(290, 60, 100, 100, "Decode 实例\n逐 token\n带宽受限\n→ TPOT", "green", SMALL)
    g.arrow(80, 110, 98, 110)
    g.arrow(210, 110, 288, 110, width=2.5)
    g.text(250, 90, "KV cache", SMALL, bold=True)
    g.text(250, 132, "RDMA", SMALL, color=INK2)
    g.text(250, 150, "NVLink", SMALL, color=INK2)
    g.arrow(155, 160, 155, 182)  # prefill's forward pass already yields the first output token
    g.text(155, 194, "首个输出 token", SMALL, color=INK2)
    g.text(155, 214, "大 TP 压 TTFT", SMALL, color=INK2)
    g.arrow(340, 160, 340, 182)
    g.text(340, 194, "后续 token", SMALL, color=INK2)
    g.text(200, 20, "两阶段分开部署、分别扩缩容", 14, bold=True)
    g.text(200, 242, "代价：KV 跨机传输，调度更复杂", SMALL, color=INK2)
    return g


@diagram
def parallelism_3d_layout() -> Svg:
    dp, pp, tp = 4, 4, 8
    g = Svg(
        "parallelism-3d-layout",
        400,
        300,
        "128 卡的 3D 并行排布（TP=8、PP=4、DP=4）：每台 8 卡机是一个 TP 组，走 NVLink；同一行的 4 台机器是一条流水线的 "
        "4 个 stage，stage 之间点对点传激活；同一列的 4 台机器持"
        "有同一 stage 的模型副本，彼此做梯度的数据并行 AllReduce。",
    )
    g.text(200, 18, f"TP={tp} × PP={pp} × DP={dp} = {tp * pp * dp} 卡", 14, bold=True)
    for s in range(pp):
        g.text(66 + s * 84 + 36, 40, f"stage {s + 1}", SMALL, color=INK2)
    for r in range(dp):
        y = 52 + r * 50
        g.text(8, y + 20, f"副本 {r + 1}", SMALL, anchor="start", color=INK2)
        for s in range(pp):
            x = 66 + s * 84  # the last machine ends at x = 390
            g.rect(x, y, 72, 40, "white")
            for k in range(tp):
                g.rect(x + 5 + (k % 4) * 16, y + 5 + (k // 4) * 16, 14, 14, "blue", rx=2, stroke_width=0.8)
            if s:
                g.arrow(x - 12, y + 20, x - 2, y + 20)
            if r:
                g.arrow(x + 36, y - 10, x + 36, y, arrow=False, color="#16a34a", width=3)
    g.text(200, 262, "一格 = 一台 8 卡机 = 一个 TP 组（NVLink）", SMALL, color=INK2)
    g.text(200, 280, "行内箭头：PP 传激活；同列绿线：DP AllReduce 梯度", SMALL, color=INK2)
    return g


#: Expert parallelism example: the GPU each token lives on, and the two experts its router picked.
EP_ROUTES = {"a": (0, (2, 5)), "b": (1, (3, 8)), "c": (2, (1, 6)), "d": (3, (4, 7))}
EP_EXPERTS_PER_GPU = 2


def ep_dispatch(routes: dict[str, tuple[int, tuple[int, ...]]], per_gpu: int) -> dict[int, list[tuple[str, int]]]:
    """Dispatch all-to-all: GPU → the (token, expert) copies it receives (expert e lives on GPU (e − 1) // per_gpu)."""
    received: dict[int, list[tuple[str, int]]] = {}
    for token, (_home, experts) in sorted(routes.items()):
        for e in experts:
            received.setdefault((e - 1) // per_gpu, []).append((token, e))
    return received


@diagram
def moe_expert_parallel() -> Svg:
    gpus = 4
    received = ep_dispatch(EP_ROUTES, EP_EXPERTS_PER_GPU)
    assert sorted(received) == list(range(gpus))
    g = Svg(
        "moe-expert-parallel",
        400,
        318,
        "MoE 专家并行（4 张卡，每卡放 2 个专家，top-2）：注意力之后每张卡上的 token 由 router 选出 2 个专家；"
        "dispatch all-to-all 把每个 token 的隐状态发到所选专家所在的卡，各卡只用本地专家计算收到的 token；"
        "combine all-to-all 再把结果送回 token 原来的卡，按门控加权求和。"
        "每个 MoE 层前向 2 次 all-to-all，反向再 2 次。",
    )
    g.text(200, 16, f"专家并行：EP = {gpus}，每卡 {EP_EXPERTS_PER_GPU} 个专家，top-2", 14, bold=True)
    col = [94 + c * 75 for c in range(gpus)]  # each GPU's column: x .. x + 70
    expert_x = {}  # expert → centre x of its box
    for c, x in enumerate(col):
        g.text(x + 35, 36, f"GPU{c}", SMALL, bold=True)
        g.rect(x, 134, 70, 42, "white", dash=True)
        for k in range(EP_EXPERTS_PER_GPU):
            e = c * EP_EXPERTS_PER_GPU + k + 1
            g.box(x + 4 + k * 32, 139, 30, 32, f"E{e}", "purple", SMALL)
            expert_x[e] = x + 4 + k * 32 + 15
    for token, (home, experts) in sorted(EP_ROUTES.items()):
        x = col[home]
        g.box(x, 48, 70, 40, f"token {token}\n选 {'、'.join(f'E{e}' for e in experts)}", "yellow", SMALL)
        g.box(x, 228, 70, 32, f"y_{token}", "green", SMALL)
        for k, e in enumerate(experts):
            off = -12 if k == 0 else 12
            g.line([(x + 35 + off, 88), (expert_x[e], 137)], color="#2563eb", width=1.3)
            g.line([(expert_x[e], 176), (x + 35 + off, 226)], color="#16a34a", width=1.3)
    for y, lines in (
        (68, ("各卡 token",)),
        (112, ("① dispatch", "all-to-all")),
        (155, ("本地专家",)),
        (200, ("② combine", "all-to-all")),
        (244, ("加权求和",)),
    ):
        for k, line in enumerate(lines):
            g.text(8, y + (k - (len(lines) - 1) / 2) * 18, line, SMALL, anchor="start", bold=len(lines) == 2)
    a_home, (e1, e2) = EP_ROUTES["a"]
    g.text(200, 280, f"y_a = g_{e1}·E{e1}(a) + g_{e2}·E{e2}(a)，在 GPU{a_home} 上", SMALL, color=INK2)
    n_copies = max(len(v) for v in received.values())
    g.text(200, 300, f"每卡收到 {n_copies} 份 token；每层前向 2 次 all-to-all", SMALL, color=INK2)
    return g


#: Chunked-prefill example: three requests decoding, a new one with a long prompt, a per-step token budget.
CHUNK_EXAMPLE = (("A", "B", "C"), "D", 1200, 512)  # decoding requests, new request, prompt tokens, budget


def serving_steps(decoding: Sequence[str], new: str, prompt: int, budget: int | None, tail: int = 1):
    """Scheduler steps as [{request: (kind, tokens)}], kind 'd' = decode one token, 'p' = prefill, 's' = stalled.

    budget=None: the whole prompt is prefilled in one step and the running decodes pause (prefill first).
    Otherwise each step schedules every decode first, then a prefill chunk with what is left of the budget.
    """
    steps = [{r: ("d", 1) for r in decoding}]  # the step before the new request arrives
    left = prompt
    while left:
        if budget is None:
            step = {r: ("s", 0) for r in decoding}
            chunk = left
        else:
            step = {r: ("d", 1) for r in decoding}
            chunk = min(left, budget - len(decoding))
        step[new] = ("p", chunk)
        steps.append(step)
        left -= chunk
    steps += [{r: ("d", 1) for r in (*decoding, new)} for _ in range(tail)]
    return steps


def step_tokens(step: dict[str, tuple[str, int]]) -> int:
    return sum(n for _kind, n in step.values())


@diagram
def chunked_prefill_timeline() -> Svg:
    decoding, new, prompt, budget = CHUNK_EXAMPLE
    plain = serving_steps(decoding, new, prompt, None, tail=2)
    chunked = serving_steps(decoding, new, prompt, budget, tail=1)
    chunks = [s[new][1] for s in chunked if s.get(new, ("", 0))[0] == "p"]
    assert all(step_tokens(s) <= budget for s in chunked) and sum(chunks) == prompt
    abc = "、".join(decoding)
    g = Svg(
        "chunked-prefill-timeline",
        400,
        360,
        f"chunked prefill 时间线（示意，格宽表示这一步的耗时，随本步 token 数增长）：{abc} 正在 decode，"
        f"每步各出 1 个 token，新请求 {new} 带来 {prompt} token 的 prompt。"
        f"不分块、prefill 优先时 {new} 的 {prompt} 个 token 在一步里算完，这一步最长，"
        f"{abc} 停顿、不出 token（TPOT 尖峰；把 decode 拼进这一步，它也一样长）；"
        f"分块后每步不超过 {budget} 个 token，{new} 的 prefill 切成 {'、'.join(map(str, chunks))} 三段，"
        f"和 {abc} 的 decode 拼进同一步，{abc} 每步照常出 token，代价是 {new} 的首个 token 晚一点。",
    )
    g.text(200, 16, f"{abc} 在 decode，{new} 带来 {prompt} token 的 prompt", 14, bold=True)
    x0, gap, rows = 52, 2, (*decoding, new)

    def width(step) -> float:  # schematic: a fixed cost per step plus a cost per token
        return 30 + 0.14 * step_tokens(step)

    def panel(y0: float, title: str, steps) -> None:
        g.text(8, y0, title, SMALL, anchor="start", bold=True)
        for r, name in enumerate(rows):
            g.text(40, y0 + 28 + r * 22 + 9, name, SMALL, anchor="end", color=INK2)
        x = x0
        for step in steps:
            w = width(step)
            g.text(x + w / 2, y0 + 18, str(step_tokens(step)), SMALL, color=INK2)
            for r, name in enumerate(rows):
                if name not in step:
                    continue
                kind, n = step[name]
                y = y0 + 28 + r * 22
                if kind == "d":
                    g.rect(x, y, w, 18, "green", rx=2, stroke_width=0.8)
                elif kind == "p":
                    g.box(x, y, w, 18, f"prefill {n}" if w > 90 else str(n), "blue", SMALL)
                elif r == 0:  # one label for the stalled rows
                    g.box(x, y, w, 18 + 22 * (len(decoding) - 1), f"{abc} 停顿", "red", SMALL)
            x += w + gap

    panel(40, f"不分块（prefill 优先）：{new} 一步算完，decode 停一步", plain)
    panel(176, f"chunked prefill：每步 ≤ {budget} token，decode 不停", chunked)
    g.text(388, 58, "时间 →", SMALL, anchor="end", color=INK2)
    g.text(8, 302, "格上方数字 = 这一步的 token 数", SMALL, anchor="start", color=INK2)
    g.text(8, 320, "格宽 ≈ 这一步的耗时：固定开销 + 随 token 数增长（示意）", SMALL, anchor="start", color=INK2)
    legend = ((8, "decode 出 1 个", "green"), (146, "prefill（token 数）", "blue"), (316, "停顿", "red"))
    for x, label, kind in legend:
        g.box(x, 335, 14, 14, "", kind)
        g.text(x + 20, 342, label, SMALL, anchor="start", color=INK2)
    return g


def build_all() -> dict[str, str]:
    """Every diagram's SVG text, by file name."""
    return {name: make().render() for name, make in sorted(DIAGRAMS.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if media/ differs from this script's output")
    args = parser.parse_args(argv)
    out = build_all()
    stale = [
        name
        for name, text in out.items()
        if not (MEDIA / name).is_file() or (MEDIA / name).read_text(encoding="utf-8") != text
    ]
    if args.check:
        for name in stale:
            print(f"media/{name}: differs from scripts/diagrams.py (run: python scripts/diagrams.py)")
        return 1 if stale else 0
    MEDIA.mkdir(exist_ok=True)
    for name in stale:
        (MEDIA / name).write_text(out[name], encoding="utf-8", newline="\n")
        print(f"wrote media/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
