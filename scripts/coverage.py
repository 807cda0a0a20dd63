"""What the deck covers: every seed question, and every topic of the topic map.

    .venv/bin/python scripts/coverage.py            # both reports; exit 1 if anything is missing
    .venv/bin/python scripts/coverage.py --topics   # topic → cards, area by area
    .venv/bin/python scripts/coverage.py --write    # refresh seeds/question-ids.txt from ../shared/seeds

A seed question is covered when some card lists its id in `source` (`000:4.1`, `002:17`, ...).
Only the ids are committed (seeds/question-ids.txt); the question text is shown when the seed
documents are beside the checkout (../shared/seeds). The topic map is topics/*.yaml: per area,
the topics an interview asks, where the list came from, and the cards that answer each topic.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "seeds" / "question-ids.txt"
TOPICS = ROOT / "topics"
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


def read_index(path: Path = INDEX) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()[:1].isdigit()]


def _cards(cards_dir: Path):
    for path in sorted(cards_dir.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        cards = data.get("cards", []) if isinstance(data, dict) else data if isinstance(data, list) else []
        for card in cards or []:
            if isinstance(card, dict) and "id" in card:
                yield card


def cited_sources(cards_dir: Path = ROOT / "cards") -> dict[str, list[str]]:
    """Seed id → ids of the cards that list it in `source`."""
    cited: dict[str, list[str]] = {}
    for card in _cards(cards_dir):
        for src in card.get("source") or []:
            cited.setdefault(str(src), []).append(str(card["id"]))
    return cited


def read_topics(folder: Path = TOPICS) -> list[dict]:
    """Every area of the topic map: {'area', 'anchors', 'topics': [{'topic', 'from', 'cards'}]}."""
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.yaml"))]


def topic_problems(areas: list[dict], card_ids: set[str]) -> list[str]:
    problems = []
    for area in areas:
        for topic in area.get("topics", []):
            cards = topic.get("cards") or []
            if not cards:
                problems.append(f"{area['area']}: topic '{topic['topic']}' has no card")
            problems += [
                f"{area['area']}: topic '{topic['topic']}' lists unknown card '{c}'" for c in cards if c not in card_ids
            ]
    return problems


def seed_report() -> int:
    ids = read_index()
    text = dict(parse_seeds(SEEDS)) if SEEDS.is_dir() else {}
    cited = cited_sources()
    missing = [qid for qid in ids if qid not in cited]
    unknown = sorted(s for s in set(cited) - set(ids) if re.match(r"^00\d:", s))
    for qid in missing:
        print(f"not covered: {qid}  {text.get(qid, '')}".rstrip())
    for qid in unknown:
        print(f"cited but not a seed question: {qid} (cards: {', '.join(cited[qid])})")
    print(f"{len(ids) - len(missing)}/{len(ids)} seed questions covered by {sum(map(len, cited.values()))} citations")
    return 1 if missing or unknown else 0


def topic_report(show: bool) -> int:
    areas = read_topics()
    ids = {str(card["id"]) for card in _cards(ROOT / "cards")}
    if show:
        for area in areas:
            print(f"## {area['area']}  (from: {'; '.join(area.get('anchors', []))})")
            for topic in area.get("topics", []):
                print(f"- {topic['topic']} [{topic.get('from', '')}]: {', '.join(topic.get('cards') or []) or '—'}")
    problems = topic_problems(areas, ids)
    for problem in problems:
        print(problem)
    topics = sum(len(a.get("topics", [])) for a in areas)
    print(f"{topics - len([p for p in problems if p.endswith('has no card')])}/{topics} topics have cards")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="regenerate seeds/question-ids.txt from ../shared/seeds")
    parser.add_argument("--topics", action="store_true", help="list every topic of the topic map with its cards")
    args = parser.parse_args()
    if args.write:
        rows = parse_seeds(SEEDS)
        head = INDEX.read_text(encoding="utf-8").splitlines()[:2] if INDEX.is_file() else []
        INDEX.write_text("\n".join([*head, *(qid for qid, _q in rows)]) + "\n", encoding="utf-8")
        print(f"wrote {len(rows)} question ids to {INDEX.relative_to(ROOT)}")
    return seed_report() | topic_report(args.topics)


if __name__ == "__main__":
    sys.exit(main())
