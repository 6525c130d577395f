"""The figures of bench_oneshot from its runs: percentiles, medians over rounds, ratios, tables. Pure.

A run is the dict ``runs.run`` answers. Runs of one *group* (same row, topology and mode) are summed
up by the median of each figure over the rounds, with every run's value kept beside it. Ratios divide
a meshcare row's median by LXMF's in the same topology and mode, figure by figure (a ratio below 1 is
meshcare lower: better for latency, CPU, bytes and memory, worse for msg/s).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ab import leaves

#: Run keys that are figures (numeric leaves under them are summarized and compared).
FIGURE_KEYS = ("latency_ms", "per_s", "cpu_ms_per_message", "wire_bytes_per_message", "rss_node_mib",
               "api_ms_p50", "acked_ms", "rss_mib", "cpu_ms_per_message_by_process")
#: The row every other row is compared with, when it ran.
BASELINE_ROW = "lxmf"


def pct(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 <= q <= 1) of ``values`` by rank: the value at index int(q * n) of the
    sorted values, capped at the last (bench_daemon's definition, so figures compare). Raises
    ValueError for no values or a q outside [0, 1]."""
    if not values:
        raise ValueError("a percentile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is not between 0 and 1")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(run: dict[str, Any]) -> dict[str, float]:
    """The numeric figures of one run, named by their path (``latency_ms.p50``, ``wire_bytes_per_message.A-R``)."""
    return leaves({key: run[key] for key in FIGURE_KEYS if key in run})


@dataclass
class Group:
    """The runs of one row in one topology and mode: each figure's median and its value in every run."""

    row: str
    topology: str
    mode: str
    runs: int = 0
    delivered: int = 0
    messages: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.row, self.topology, self.mode

    @property
    def medians(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.values.items() if values}

    def to_data(self) -> dict[str, Any]:
        return {"row": self.row, "topology": self.topology, "mode": self.mode, "runs": self.runs,
                "delivered": self.delivered, "messages": self.messages, "median": self.medians,
                "values": self.values, "errors": self.errors, "notes": self.notes}


def group(runs: Iterable[dict[str, Any]]) -> list[Group]:
    """Runs gathered by (row, topology, mode), in the order each group first ran."""
    groups: dict[tuple[str, str, str], Group] = {}
    for run in runs:
        key = (run["row"], run["topology"], run["mode"])
        g = groups.setdefault(key, Group(*key))
        g.runs += 1
        g.delivered += int(run.get("delivered", 0))
        g.messages += int(run.get("messages", 0))
        for name, value in figures(run).items():
            g.values.setdefault(name, []).append(value)
        g.errors += [e for e in run.get("errors", []) if e not in g.errors]
        g.notes += [n for n in run.get("notes", []) if n not in g.notes]
    return list(groups.values())


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b


@dataclass
class Ratios:
    """One row's medians over the baseline's, in one topology and mode, figure by figure."""

    row: str
    against: str
    topology: str
    mode: str
    values: dict[str, float | None]

    def to_data(self) -> dict[str, Any]:
        return {"row": self.row, "against": self.against, "topology": self.topology, "mode": self.mode,
                "ratios": {k: None if v is None else round(v, 3) for k, v in self.values.items()}}


def ratios(groups: Sequence[Group], baseline: str = BASELINE_ROW) -> list[Ratios]:
    """For every group that is not the baseline's, its ratios to the baseline's group in the same
    topology and mode (figures both have); nothing when the baseline did not run there."""
    base = {(g.topology, g.mode): g for g in groups if g.row == baseline}
    out = []
    for g in groups:
        other = base.get((g.topology, g.mode))
        if g.row == baseline or other is None:
            continue
        mine, theirs = g.medians, other.medians
        out.append(Ratios(g.row, baseline, g.topology, g.mode,
                          {name: ratio(mine[name], theirs[name]) for name in mine if name in theirs}))
    return out


# --- text ------------------------------------------------------------------------------------------

def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns aligned: the first left, the others right."""
    body = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in body) for i in range(len(header))]
    lines = []
    for r in body:
        cells = [r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:], widths[1:]))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def num(value: float | None, digits: int = 3) -> str:
    """A figure for the table: up to ``digits`` significant digits, thousands separated; "-" if missing."""
    if value is None:
        return "-"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _parts(medians: dict[str, float], prefix: str, fmt: int = 3) -> str:
    items = [(name[len(prefix):], v) for name, v in medians.items() if name.startswith(prefix)]
    return " ".join(f"{k} {num(v, fmt)}" for k, v in items) or "-"


HEADER = ("row", "topology", "mode", "delivered", "p50 ms", "p99 ms", "msg/s", "send ms", "CPU ms/msg",
          "wire B/msg per hop", "RSS MiB per node")


def figures_table(groups: Sequence[Group]) -> str:
    rows = []
    for g in groups:
        m = g.medians
        rows.append((g.row, g.topology, g.mode, f"{g.delivered}/{g.messages}", num(m.get("latency_ms.p50")),
                     num(m.get("latency_ms.p99")), num(m.get("per_s")), num(m.get("api_ms_p50")),
                     num(m.get("cpu_ms_per_message")), _parts(m, "wire_bytes_per_message."),
                     _parts(m, "rss_node_mib.")))
    return table(HEADER, rows) + "\n(send ms: p50 of send written -> the sender's API call returned)"


def ratios_table(found: Sequence[Ratios]) -> str:
    rows = []
    for r in found:
        v = r.values
        rows.append((f"{r.row} / {r.against}", r.topology, r.mode, num(v.get("latency_ms.p50")),
                     num(v.get("latency_ms.p99")), num(v.get("per_s")), num(v.get("cpu_ms_per_message")),
                     _parts({k: x for k, x in v.items() if x is not None}, "wire_bytes_per_message."),
                     _parts({k: x for k, x in v.items() if x is not None}, "rss_node_mib.")))
    return table(("ratio", "topology", "mode", "p50", "p99", "msg/s", "CPU/msg", "wire per hop", "RSS per node"), rows)


def runs_lines(groups: Sequence[Group], names: Sequence[str] = ("latency_ms.p50", "latency_ms.p99", "per_s",
                                                                "cpu_ms_per_message")) -> list[str]:
    """Every run's value of the main figures, one line per group (shown when there were several rounds)."""
    out = []
    for g in groups:
        parts = [f"{name} [{', '.join(num(v) for v in g.values.get(name, []))}]" for name in names]
        out.append(f"  {g.row} {g.topology} {g.mode}: " + "; ".join(parts))
    return out


def report(groups: Sequence[Group], found: Sequence[Ratios], *, rounds: int, size: int = 200) -> str:
    """The whole human-readable output: figures (medians when several rounds), every run's values,
    ratios, per-process memory and CPU, errors, and what each row's setup changed."""
    rounds_text = f"medians of {rounds} rounds" if rounds > 1 else "1 round"
    lines = [f"one message per request, {size}-byte bodies, {rounds_text}", "", figures_table(groups)]
    if rounds > 1:
        lines += ["", "every run:", *runs_lines(groups)]
    if found:
        lines += ["", "meshcare / LXMF (below 1: meshcare lower; for msg/s above 1 is better)", ratios_table(found)]
    lines += ["", "per process (medians): RSS MiB; CPU ms per delivered message"]
    for g in groups:
        m = g.medians
        lines.append(f"  {g.row} {g.topology} {g.mode}: {_parts(m, 'rss_mib.')}; "
                     f"{_parts(m, 'cpu_ms_per_message_by_process.')}")
    for g in groups:
        for e in g.errors[:5]:
            lines.append(f"  ! {g.row} {g.topology} {g.mode}: {e}")
    notes = sorted({(g.row, n) for g in groups for n in g.notes})
    if notes:
        lines += ["", "setup:"] + [f"  {row}: {n}" for row, n in notes]
    return "\n".join(lines)
