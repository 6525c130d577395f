"""benchmarks/ab.py: the A/B driver that docs/benchmarks.md's comparisons come from. Its runs are too
slow for the suite; what it computes from them is checked here, and one real round on a quick script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .helpers import load_benchmark

ROOT = Path(__file__).resolve().parents[1]

ab = load_benchmark("ab")


def test_every_numeric_leaf_is_named_by_its_path_and_nothing_else_is_kept() -> None:
    data = {"latency_ms": {"p50": 1.5, "p99": 3}, "runs": [{"per_s": 10}, {"per_s": 12}], "ok": True,
            "name": "x", "none": None}
    assert ab.leaves(data) == {"latency_ms.p50": 1.5, "latency_ms.p99": 3.0, "runs.0.per_s": 10.0,
                               "runs.1.per_s": 12.0}


def test_a_round_compares_two_commits_and_leaves_no_worktree_behind(tmp_path: Path) -> None:
    before = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    done = subprocess.run([sys.executable, "benchmarks/ab.py", "HEAD", "HEAD", "--rounds", "1", "--scripts",
                           "bench_reconcile", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    size = runs["bench_reconcile"]["size"]
    assert size["old"] == size["new"] == [100000.0]
    after = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before
