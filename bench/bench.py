"""Benchmark: ankibuild against the naive pipeline, on a synthetic collection, in one run.

    .venv/bin/python bench/bench.py                   # 10,000 cards
    .venv/bin/python bench/bench.py --sizes 1000,10000,50000

For each size it generates a realistic collection (Chinese prose, lists, a formula, a code block in
a third of the cards), then times, each in a fresh process so peak memory is its own:
  naive    Python-Markdown (new instance per field, fenced_code + codehilite) + genanki, one process
  cold     `ankibuild` with an empty render cache
  warm     `ankibuild` again, nothing changed
  one-edit `ankibuild` after editing one card's answer
and prints wall seconds, the ratio to naive, CPU seconds (the process and the render workers it
waited for; steadier than wall time on a shared machine) with their ratio, and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from builder.init import pyproject

CARDS_PER_FILE = 200
TOPICS = ["compression", "training", "inference", "distributed", "fundamentals"]

PROSE = [
    "量化把 FP32 权重映射到 INT8，显存约减少为原来的四分之一，推理吞吐随之提升。",
    "注意力的计算量随序列长度平方增长，长上下文时 KV cache 成为显存的主要消耗。",
    "混合精度用 FP16 或 BF16 做矩阵乘法，同时保留一份 FP32 主权重用于更新。",
    "数据并行复制模型、切分数据，每步用 AllReduce 同步梯度；模型并行则切分参数。",
    "知识蒸馏让学生模型拟合教师模型在温度 T 下的软标签，损失要乘以 T 的平方。",
    "剪枝分为结构化与非结构化两类，只有结构化剪枝能在通用硬件上直接带来加速。",
]
FORMULAS = [
    r"\[ \mathrm{Attention}(Q,K,V)=\mathrm{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right)V \]",
    r"\( s = \frac{x_{max}-x_{min}}{2^b-1},\; z = -\mathrm{round}(x_{min}/s) \)",
    r"$$ \mathcal{L} = -\sum_i y_i \log \hat{y}_i $$",
    r"\( \mathrm{PPL} = \exp\left(-\frac{1}{N}\sum_{i=1}^{N}\log p(x_i)\right) \)",
]
CODE = """\
```python
import torch
import torch.nn.functional as F


def distill_loss(student_logits, teacher_logits, labels, t=2.0, alpha=0.5):
    soft = F.kl_div(
        F.log_softmax(student_logits / t, dim=-1),
        F.softmax(teacher_logits / t, dim=-1),
        reduction="batchmean",
    ) * t * t
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard
```"""


def card_text(i: int, rng: random.Random) -> dict[str, str]:
    prose = " ".join(rng.sample(PROSE, 2))
    items = "\n".join(f"- {rng.choice(PROSE)}" for _ in range(3))
    answer = f"{prose}\n\n{items}\n\n{FORMULAS[i % len(FORMULAS)]}"
    if i % 3 == 0:
        answer += "\n\n" + CODE
    return {
        "id": f"bench-card-{i:06d}",
        "question": f"第 {i} 题：{rng.choice(PROSE)[:18]}……为什么？",
        "answer": answer,
        "extra": f"**追问**：{rng.choice(PROSE)}",
    }


def yaml_block(text: str, indent: int) -> str:
    return "|\n" + textwrap.indent(text, " " * indent)


def generate(root: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    (root / "cards").mkdir(parents=True)
    # A deck of its own, as `ankibuild init` makes it: every deck needs its own identity.
    config = pyproject("Bench")
    (root / "pyproject.toml").write_text(config)
    (root / "cards" / "tags.yaml").write_text("tags:\n" + "".join(f"  {t}: {t}\n" for t in TOPICS))
    for start in range(0, n, CARDS_PER_FILE):
        topic = TOPICS[(start // CARDS_PER_FILE) % len(TOPICS)]
        parts = [f"tags: [{topic}]\ncards:\n"]
        for i in range(start, min(n, start + CARDS_PER_FILE)):
            c = card_text(i, rng)
            parts.append(
                f"  - id: {c['id']}\n"
                f"    question: {yaml_block(c['question'], 6)}\n"
                f"    answer: {yaml_block(c['answer'], 6)}\n"
                f"    extra: {yaml_block(c['extra'], 6)}\n"
            )
        (root / "cards" / f"{topic}-{start // CARDS_PER_FILE:04d}.yaml").write_text("".join(parts))


NAIVE = r"""
import sys, time, yaml, markdown, genanki
from pathlib import Path
root = Path(sys.argv[1])
model = genanki.Model(1607392319, "Naive", fields=[{"name": "Q"}, {"name": "A"}, {"name": "E"}],
    templates=[{"name": "C", "qfmt": "{{Q}}", "afmt": "{{A}}<hr>{{E}}"}])
deck = genanki.Deck(2059400110, "Naive")
ext = ["fenced_code", "codehilite", "tables"]
for path in sorted((root / "cards").glob("*.yaml")):
    if path.name == "tags.yaml":
        continue
    for c in yaml.safe_load(path.read_text())["cards"]:
        fields = [markdown.markdown(c[k], extensions=ext) for k in ("question", "answer", "extra")]
        deck.add_note(genanki.Note(model=model, fields=fields, guid=genanki.guid_for(c["id"])))
genanki.Package(deck).write_to_file(str(root / "naive.apkg"))
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (with the workers it reaped) and peak RSS (MB) of a child process."""
    start = time.perf_counter()
    pid = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(pid.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux reports KiB


def ankibuild_cmd() -> list[str]:
    exe = shutil.which("ankibuild", path=str(Path(sys.executable).parent)) or shutil.which("ankibuild")
    return [exe] if exe else [sys.executable, "-m", "builder.cli"]


def run_size(n: int, workdir: Path) -> list[tuple[str, float, float, float]]:
    root = workdir / f"n{n}"
    generate(root, n)
    env = dict(os.environ, ANKIBUILD_CACHE_DIR=str(workdir / f"cache{n}"), CI="true")
    rows = []
    rows.append(("naive", *timed([sys.executable, "-c", NAIVE, str(root)], env)))
    build = [*ankibuild_cmd(), "-C", str(root)]
    rows.append(("cold", *timed(build, env)))
    rows.append(("warm", *timed(build, env)))
    first = sorted((root / "cards").glob("compression-*.yaml"))[0]
    text = first.read_text()
    first.write_text(text.replace("为什么？", "为什么？（已修改）", 1))
    rows.append(("one-edit", *timed(build, env)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000", help="comma-separated card counts")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(f"{'cards':>7} {'run':<9} {'seconds':>8} {'× naive':>8} {'CPU s':>8} {'× naive':>8} {'peak MB':>8}")
    with tempfile.TemporaryDirectory(prefix="ankibuild-bench-") as tmp:
        for n in sizes:
            rows = run_size(n, Path(tmp))
            naive, naive_cpu = rows[0][1], rows[0][2]
            for name, seconds, cpu, mb in rows:
                wall = f"{seconds:>8.2f} {seconds / naive:>8.3f}"
                print(f"{n:>7} {name:<9} {wall} {cpu:>8.2f} {cpu / naive_cpu:>8.3f} {mb:>8.0f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
