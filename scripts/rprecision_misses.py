#!/usr/bin/env python
"""Which attributes the R-precision misses of ``avatarforge eval --prompts ... --json`` hinge on.

For each row of the report (ceiling, template, amortised, ...) and each prompt whose avatar
retrieved another prompt, the two prompts' named attributes (``named`` in the shipped
``pipeline/assets/heldout_prompts.jsonl``) are compared: an attribute counts when either prompt
names it and the values differ. A miss that differs in one attribute only is charged to it
alone ("sole"), which is the clearest signal of what the avatar got wrong (or what the
evaluator cannot see). Prints one table; ``--examples N`` also lists N misses per row.

    python scripts/rprecision_misses.py runs/rp120.json [--prompts FILE] [--examples 5]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.eval.runner import DEFAULT_PROMPTS, read_prompt_file  # noqa: E402


def differing(a: dict, b: dict) -> list[str]:
    """Attributes named by either prompt whose values differ (unnamed on one side counts as different)."""
    keys = sorted(set(a) | set(b))
    return [k for k in keys if _norm(a.get(k)) != _norm(b.get(k))]


def _norm(v):
    return tuple(sorted(v)) if isinstance(v, list) else v


def misses(retrieved: list[int], rows: list[dict]) -> list[tuple[int, int, list[str]]]:
    """(prompt index, retrieved index, differing attributes) for every miss."""
    return [(i, j, differing(rows[i]["named"], rows[j]["named"])) for i, j in enumerate(retrieved) if i != j]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", type=Path, help="JSON written by avatarforge eval --prompts ... --json")
    ap.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS, help="the prompt file the report scored")
    ap.add_argument("--examples", type=int, default=0, help="also print this many misses per row")
    a = ap.parse_args(argv)
    report = json.loads(a.report.read_text())
    report = report.get("r_precision", report)
    if "retrieved" not in report:
        sys.exit(f"{a.report}: no 'retrieved' lists (written by an avatarforge older than this script); rerun eval")
    rows = read_prompt_file(a.prompts)
    if any("named" not in r for r in rows):
        sys.exit(f"{a.prompts}: every row needs 'named' (see scripts/make_heldout_prompts.py)")
    n = report["n_prompts"]
    rows = rows[:n]
    per_row = {name: misses(ret, rows) for name, ret in report["retrieved"].items()}
    attrs = sorted({k for r in rows for k in r["named"]})
    print(f"{a.report} ({n} prompts, {report.get('render', 'field')} renders): misses, and per attribute "
          "how many misses differ in it (sole = the only difference)")
    names = list(per_row)
    print(f"{'attribute':18}" + "".join(f"{nm:>22}" for nm in names))
    print(f"{'misses':18}" + "".join(f"{len(per_row[nm]):>22}" for nm in names))
    for k in attrs:
        cells = []
        for nm in names:
            any_ = sum(k in d for _, _, d in per_row[nm])
            sole = sum(d == [k] for _, _, d in per_row[nm])
            cells.append(f"{any_} (sole {sole})")
        print(f"{k:18}" + "".join(f"{c:>22}" for c in cells))
    if a.examples:
        for nm in names:
            print(f"\n{nm}:")
            for i, j, d in per_row[nm][: a.examples]:
                print(f"  {rows[i]['prompt']!r}\n    -> {rows[j]['prompt']!r}  [{', '.join(d)}]")
    counts = Counter(len(d) for nm in names for _, _, d in per_row[nm])
    print("\nattributes differing per miss (all rows):", dict(sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
