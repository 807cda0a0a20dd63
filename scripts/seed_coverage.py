"""Which seed questions no card covers yet.

    .venv/bin/python scripts/seed_coverage.py            # report; exit 1 if any is missing
    .venv/bin/python scripts/seed_coverage.py --write    # refresh seeds/questions.tsv from ../shared/seeds

A seed question is covered when some card lists its id in `source` (`000:4.1`, `002:17`, ...).
The index of questions is committed as seeds/questions.tsv, so the report works without the seed
documents; `--write` regenerates it from them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "seeds" / "questions.tsv"
SEEDS = ROOT.parent / "shared" / "seeds"
EXPECTED_COUNTS = {"000": 60, "001": 30, "002": 30, "003": 10, "004": 20}


def parse_seeds(folder: Path) -> list[tuple[str, str]]:
    """(id, question) for every question in the five seed documents."""
    out: list[tuple[str, str]] = []
    for path in sorted(folder.glob("00[0-4]_*.txt")):
        prefix = path.name[:3]
        text = path.read_text(encoding="utf-8")
        if prefix == "000":
            section = 0
            for line in text.splitlines():
                if m := re.match(r"^### (\d+)\.", line):
                    section = int(m[1])
                elif m := re.match(r"^\*\*问题(\d+)\*\*[:：]\s*(.+?)\s*$", line):
                    out.append((f"000:{section}.{m[1]}", m[2]))
        elif prefix == "001":
            for m in re.finditer(r"^#### (\d+)\.[^\n]*\n+\*\*面试题[:：]\*\*\s*(.+)$", text, re.MULTILINE):
                out.append((f"001:{m[1]}", m[2].strip()))
        elif prefix == "002":
            for m in re.finditer(r"^## (\d+)\.\s*(.+)$", text, re.MULTILINE):
                out.append((f"002:{m[1]}", m[2].strip()))
        elif prefix == "003":
            for m in re.finditer(r"^(\d+)、\s*(.+)$", text, re.MULTILINE):
                if int(m[1]) <= 10 and not any(q == f"003:{m[1]}" for q, _ in out):
                    out.append((f"003:{m[1]}", m[2].strip()))
        elif prefix == "004":
            for m in re.finditer(r"^### (\d+)\. 算法面试题[:：]\s*(.+)$", text, re.MULTILINE):
                out.append((f"004:{m[1]}", m[2].strip()))
    return out


def read_index(path: Path = INDEX) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            qid, _, question = line.partition("\t")
            rows.append((qid, question))
    return rows


def cited_sources(cards_dir: Path = ROOT / "cards") -> dict[str, list[str]]:
    """Seed id → ids of the cards that list it in `source`."""
    cited: dict[str, list[str]] = {}
    for path in sorted(cards_dir.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        cards = data.get("cards", []) if isinstance(data, dict) else data if isinstance(data, list) else []
        for card in cards or []:
            if isinstance(card, dict):
                for src in card.get("source") or []:
                    cited.setdefault(str(src), []).append(str(card.get("id")))
    return cited


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="regenerate seeds/questions.tsv from ../shared/seeds")
    args = parser.parse_args()
    if args.write:
        rows = parse_seeds(SEEDS)
        INDEX.parent.mkdir(exist_ok=True)
        body = "".join(f"{qid}\t{q}\n" for qid, q in rows)
        INDEX.write_text(
            "# seed question id <TAB> question, from ../shared/seeds (scripts/seed_coverage.py --write)\n" + body
        )
        print(f"wrote {len(rows)} questions to {INDEX.relative_to(ROOT)}")
    rows = read_index()
    cited = cited_sources()
    missing = [(qid, q) for qid, q in rows if qid not in cited]
    unknown = sorted(set(cited) - {qid for qid, _ in rows} - {s for s in cited if not re.match(r"^00\d:", s)})
    for qid, question in missing:
        print(f"not covered: {qid}  {question}")
    for qid in unknown:
        print(f"cited but not a seed question: {qid} (cards: {', '.join(cited[qid])})")
    print(f"{len(rows) - len(missing)}/{len(rows)} seed questions covered by {sum(map(len, cited.values()))} citations")
    return 1 if missing or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
