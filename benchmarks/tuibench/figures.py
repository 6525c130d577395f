"""bench_tui's figures: spreads of latencies, medians over rounds, the table. Pure.

A round is the dict ``bench_tui.one_round`` answers (nested; ``ab.leaves`` names each number by its
path, e.g. ``call_ms.p50``). Rounds are summed up by each figure's median, with every round's value
kept beside it, as docs/benchmarks.md records figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from ab import leaves
from oneshot.figures import pct

__all__ = ["ROWS", "number", "pct", "per_second", "spread", "summary", "table"]

#: The table's rows: (figure path, what it is, target). Figures a run does not have are left out.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("start_ms.first_output", "start: spawn -> the TUI's first write to its terminal (ms)", ""),
    ("start_ms.home", "start: spawn -> home screen with its data (ms)", "<= 1000"),
    ("call_ms.p50", "call: ann's daemon has it (circle event) -> on screen, p50 (ms)", "<= 100"),
    ("call_ms.p90", "call: ... p90 (ms)", "<= 100"),
    ("call_ms.max", "call: ... max (ms)", ""),
    ("call_from_changed_ms.p50", "call: ann's daemon sent call.changed -> on screen, p50 (ms)", ""),
    ("call_from_changed_ms.max", "call: ... max (ms)", ""),
    ("call_trend_ms.first_10_p50", "call: p50 of the round's first 10 calls (ms)", ""),
    ("call_trend_ms.last_10_p50", "call: p50 of its last 10 (ms)", ""),
    ("measure_ms.drawn_to_seen_p50", "measuring: the TUI's write -> the capture showing it, p50 (ms)", ""),
    ("measure_ms.drawn_to_seen_max", "measuring: ... max (ms)", ""),
    ("measure_ms.capture_p50", "measuring: one capture-pane round trip, p50 (ms)", ""),
    ("measure_ms.found_by_poll", "measuring: calls first seen by the poll, not after a write", ""),
    ("tui_cpu_ms_per_call", "TUI CPU per call: new, resolved, Home (ms)", ""),
    ("tui_rss_mib.after_start", "TUI RSS after start (MiB)", ""),
    ("tui_rss_mib.after_calls", "TUI RSS after the calls (MiB)", ""),
    ("idle.tui_cpu_ms_per_s", "idle: TUI CPU (ms per s)", "~0"),
    ("idle.tui_wakeups_per_s", "idle: TUI wake-ups (context switches per s)", ""),
    ("idle.tui_output_bytes_per_s", "idle: TUI writes to its terminal (bytes per s)", "0"),
    ("idle.ann_cpu_ms_per_s", "idle: ann's daemon (the TUI's) CPU (ms per s)", ""),
    ("idle.ann_wakeups_per_s", "idle: ann's daemon wake-ups (per s)", ""),
    ("idle.bob_cpu_ms_per_s", "idle: bob's daemon CPU (ms per s)", ""),
)


def spread(values: Sequence[float]) -> dict[str, float]:
    """p50, p90 and max of ``values`` (rank percentiles, as every benchmark here), and how many.
    Raises ValueError for no values."""
    return {"p50": pct(values, 0.5), "p90": pct(values, 0.9), "max": max(values), "n": len(values)}


def per_second(amount: float, seconds: float) -> float:
    """``amount`` over ``seconds``; raises ValueError for a window that is not positive."""
    if seconds <= 0:
        raise ValueError(f"a window of {seconds} s")
    return amount / seconds


def summary(rounds: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each numeric figure's median over ``rounds`` and its value in every round (in round order; a
    round without it is skipped), by path."""
    values: dict[str, list[float]] = {}
    for one in rounds:
        for key, value in leaves(one).items():
            values.setdefault(key, []).append(value)
    return {key: {"median": statistics.median(vs), "rounds": vs} for key, vs in values.items()}


def number(value: float) -> str:
    """A figure for the table: whole numbers as such and from 100 up, one decimal below, two below 1."""
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(summed: dict[str, dict[str, Any]]) -> str:
    """The rows of ``ROWS`` that ``summed`` (``summary``'s answer) has: figure, target, median, every
    round's value."""
    rows = [(label, target, number(summed[key]["median"]), " ".join(number(v) for v in summed[key]["rounds"]))
            for key, label, target in ROWS if key in summed]
    head = ("figure", "target", "median", "rounds")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [f"{head[0]:<{widths[0]}}  {head[1]:>{widths[1]}}  {head[2]:>{widths[2]}}  {head[3]}"]
    lines.append("-" * (sum(widths) + 6))
    lines += [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}  {d}" for a, b, c, d in rows]
    return "\n".join(lines)
