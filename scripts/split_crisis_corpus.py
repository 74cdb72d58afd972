"""Pool the writers' crisis corpora, check them, and split them ONCE into dev and frozen test.

Run once by the lead (2026-12-07); kept for provenance, not to be re-run: the split is frozen.
Usage: python split_crisis_corpus.py OUT_DIR writer_a.jsonl writer_b.jsonl writer_c.jsonl
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

KINDS = {
    "overdose_poisoning",
    "dangerous_mixing",
    "withdrawal_danger",
    "suicide_self_harm",
    "physical_danger",
    "threat_from_other",
    "child_at_risk",
}
CATEGORIES = {
    "help_seeking",
    "disclosure",
    "recovery_past",
    "news_film_training",
    "idiom",
    "benefits_work",
    "third_person_not_now",
    "service_question",
    "everyday",
    "harm_reduction_info",
}
TEST_SHARE = 0.35
SEED = 20261207


def key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


def main() -> None:
    out = Path(sys.argv[1])
    rows: list[dict[str, object]] = []
    seen: dict[str, str] = {}
    dropped = Counter()
    for path in map(Path, sys.argv[2:]):
        author = path.stem.split("_")[-1].upper()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            text = str(row["text"]).strip()
            label = row["label"]
            if label == "help":
                assert row["kind"] in KINDS, (path, n, row)
                assert row["tier"] in {"urgent", "checkin"}, (path, n, row)
                clean = {"text": text, "label": "help", "kind": row["kind"], "tier": row["tier"]}
            else:
                assert label == "ordinary", (path, n, row)
                assert row["category"] in CATEGORIES, (path, n, row)
                clean = {"text": text, "label": "ordinary", "category": row["category"]}
            k = key(text)
            if not k or k in seen:
                dropped["duplicate" if k else "empty"] += 1
                continue
            seen[k] = author
            clean["author"] = author
            if row.get("pair"):
                clean["pair"] = (
                    f"{author}:{row['pair']}" if ":" not in str(row["pair"]) else row["pair"]
                )
            clean["id"] = f"{author}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"
            rows.append(clean)
    # Units: a contrastive pair stays together (so no half of a pair leaks across the split).
    units: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        units[str(row.get("pair") or row["id"])].append(row)
    strata: dict[tuple[str, str], list[str]] = defaultdict(list)
    for unit_id, members in units.items():
        first = members[0]
        stratum = (str(first["author"]), str(first.get("kind") or first.get("category")))
        strata[stratum].append(unit_id)
    rng = random.Random(SEED)
    test_units: set[str] = set()
    for stratum in sorted(strata):
        ids = sorted(strata[stratum])
        rng.shuffle(ids)
        test_units.update(ids[: round(len(ids) * TEST_SHARE)])
    dev = [r for u, ms in units.items() if u not in test_units for r in ms]
    test = [r for u, ms in units.items() if u in test_units for r in ms]
    dev.sort(key=lambda r: str(r["id"]))
    test.sort(key=lambda r: str(r["id"]))
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("dev.jsonl", dev), ("frozen_test.jsonl", test)):
        with (out / name).open("w", encoding="utf-8") as handle:
            for row in part:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    def counts(part: list[dict[str, object]]) -> dict[str, int]:
        c = Counter()
        for r in part:
            c[r["label"]] += 1
            c[f"{r['label']}:{r.get('kind') or r.get('category')}"] += 1
            if r["label"] == "help":
                c[f"tier:{r['tier']}"] += 1
            c[f"author:{r['author']}"] += 1
        return dict(sorted(c.items()))

    print(
        json.dumps({"dropped": dict(dropped), "dev": counts(dev), "test": counts(test)}, indent=1)
    )


main()
