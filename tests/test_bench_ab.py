"""benchmarks/ab.py: the A/B driver that docs/benchmarks.md's comparisons come from. Its runs are too
slow for the suite; what it computes from them is checked here, and one real round on a quick script."""

from __future__ import annotations

import json
import os
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


def _worktrees_under(path: Path) -> list[str]:
    """Worktrees of this repository inside ``path``: other sessions' worktrees come and go meanwhile."""
    listed = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    return [line for line in listed.splitlines() if line.startswith("worktree ") and str(path) in line]


def test_a_round_compares_two_commits_and_leaves_no_worktree_behind(tmp_path: Path) -> None:
    # ab.py makes its checkouts in a temporary directory: under tmp_path here (TMPDIR), so this test sees
    # exactly the worktrees it made, whatever else uses the repository at the same time
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "benchmarks/ab.py", "HEAD", "HEAD", "--rounds", "1", "--scripts",
                           "bench_reconcile", "--script-args", "--size 5000 --diff 100", "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    size = runs["bench_reconcile"]["size"]
    assert size["old"] == size["new"] == [5000.0]
    assert _worktrees_under(tmp_path) == []


def test_script_args_that_do_not_parse_are_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "benchmarks/ab.py", "HEAD", "HEAD", "--script-args", "--size '5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--script-args" in done.stderr
