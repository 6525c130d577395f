"""One round of bench_tui: fresh daemons, the TUI started, idle, then calls one at a time.

The steps and what each figure means are in bench_tui.py's docstring and docs/benchmarks.md
(section 12); this module carries them out. Everything a round starts is stopped in ``one_round``'s
``finally``: the TUI's tmux server, the subscriber, both daemons.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshcare.tui.format import call_status, link_words

from . import figures, procfs
from .nodes import Pair, Stamps, wait_until
from .terminal import Terminal

WIDTH, HEIGHT = 100, 30
#: What the status line says once the TUI has its snapshot (ann has one link, to bob).
LINKED = link_words(1)
#: What the home screen says while a call is open (its row, and the list's title).
NEEDS = call_status("open", None, None, {}, None)
#: Seconds between the home screen showing and the RSS / idle figures.
SETTLE = 1.0
#: Seconds without a write to the terminal after which the TUI counts as done drawing.
QUIET = 0.1
#: Seconds any one screen may take to show what a step waits for before the round fails.
SCREEN_TIMEOUT = 30.0
#: Calls at each end of a round whose p50s show whether a call gets slower as the list grows.
TREND = 10

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Settings:
    """What every round does. ``checkout``: the meshcare whose TUI runs (this repository);
    ``pycache``: where the TUI's bytecode is kept between its starts; ``profile``: a directory for
    cProfile output of each TUI, or None."""

    calls: int
    idle_seconds: float
    poll: float
    checkout: Path
    pycache: Path
    profile: Path | None = None


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def open_tui(pair: Pair, root: Path, settings: Settings, name: str) -> Terminal:
    """``python -m meshcare --home ANN tui`` of the checkout, in a terminal of its own, not started yet.

    Its bytecode goes to ``settings.pycache`` (whatever PYTHONDONTWRITEBYTECODE says here): an installed
    meshcare starts from compiled bytecode, and the first (warm-up) start compiles it."""
    profile = [] if settings.profile is None else ["-m", "cProfile", "-o", str(settings.profile / f"{name}.prof")]
    argv = [sys.executable, *profile, "-m", "meshcare", "--home", str(pair.ann.home), "tui"]
    env: dict[str, str | None] = {"PYTHONPATH": str(settings.checkout), "PYTHONPYCACHEPREFIX": str(settings.pycache),
                                  "PYTHONDONTWRITEBYTECODE": None}
    return Terminal(argv, env=env, cwd=settings.checkout, gate=root / f"gate-{name}", width=WIDTH, height=HEIGHT)


def start(term: Terminal, marker: str, poll: float) -> dict[str, float]:
    """Let the TUI start; ms to its first write and to the home screen with ann's link and ``marker``."""
    spawned = term.start()
    home = term.wait_for(lambda s: LINKED in s and marker in s,
                         f"the home screen ({LINKED!r} and the call {marker!r})", SCREEN_TIMEOUT, poll)
    return {"first_output": ms((term.first_output or home.done) - spawned), "home": ms(home.done - spawned)}


def quit_tui(term: Terminal, timeout: float = 10.0) -> None:
    """Press q and wait (up to ``timeout`` s) until the TUI's process is gone."""
    term.press("q")
    deadline = time.monotonic() + timeout
    while procfs.find_tui(term.pane_pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)


def idle(term: Terminal, pids: dict[str, int], seconds: float) -> dict[str, float]:
    """CPU (ms per s) and wake-ups (context switches per s) of each of ``pids``, and the bytes the TUI
    wrote to its terminal per s, over ``seconds`` of nothing happening."""
    ticks = {name: procfs.cpu_ticks(pid) for name, pid in pids.items()}
    woke = {name: procfs.switches(pid) for name, pid in pids.items()}
    written = term.output_bytes
    began = time.monotonic()
    time.sleep(seconds)
    window = time.monotonic() - began
    out: dict[str, float] = {}
    for name, pid in pids.items():
        cpu_ms = (procfs.cpu_ticks(pid) - ticks[name]) / procfs.TICKS * 1000
        out[f"{name}_cpu_ms_per_s"] = round(figures.per_second(cpu_ms, window), 2)
        out[f"{name}_wakeups_per_s"] = round(figures.per_second(procfs.switches(pid) - woke[name], window), 1)
    out["tui_output_bytes_per_s"] = round(figures.per_second(term.output_bytes - written, window), 1)
    out["seconds"] = round(window, 2)
    return out


def shows(text: str) -> Callable[[str], bool]:
    """A test for ``Terminal.wait_for``: the screen holds ``text``."""
    return lambda screen: text in screen


def calls(term: Terminal, pair: Pair, stamps: Stamps, tui: int, settings: Settings,
          nonce: str) -> dict[str, Any]:
    """bob's calls, one at a time, each timed from ann's daemon to ann's screen (module docstring of
    bench_tui.py); then resolved, the screen settled and the highlight put back on top (Home)."""
    from_circle: list[float] = []
    from_changed: list[float] = []
    drawn_to_seen: list[float] = []
    capture: list[float] = []
    by_poll = 0
    ticks = procfs.cpu_ticks(tui)
    for i in range(settings.calls):
        token = f"C{i:04d}{nonce}"
        call = pair.call(f"Bench call {token}: could someone ring me tonight?", "now")
        seen = term.wait_for(shows(token), f"call {token}", SCREEN_TIMEOUT, settings.poll)
        from_circle.append(ms(seen.done - stamps.wait("circle", call)))
        from_changed.append(ms(seen.done - stamps.wait("new", call)))
        capture.append(ms(seen.done - seen.sent))
        if seen.output is not None:
            drawn_to_seen.append(ms(seen.done - seen.output))
        else:
            by_poll += 1
        pair.resolve(call)
        stamps.wait("resolved", call)
        term.wait_for(lambda s: NEEDS not in s, f"call {token} resolved", SCREEN_TIMEOUT, settings.poll)
        term.press("Home")
        term.wait_quiet(QUIET)
    cpu_ms = (procfs.cpu_ticks(tui) - ticks) / procfs.TICKS * 1000
    out: dict[str, Any] = {"call_ms": figures.spread(from_circle), "call_from_changed_ms": figures.spread(from_changed)}
    if len(from_circle) >= 2 * TREND:
        out["call_trend_ms"] = {f"first_{TREND}_p50": figures.pct(from_circle[:TREND], 0.5),
                                f"last_{TREND}_p50": figures.pct(from_circle[-TREND:], 0.5)}
    measure: dict[str, float] = {"capture_p50": figures.pct(capture, 0.5), "capture_max": max(capture),
                                 "found_by_poll": by_poll}
    if drawn_to_seen:
        measure |= {"drawn_to_seen_p50": figures.pct(drawn_to_seen, 0.5), "drawn_to_seen_max": max(drawn_to_seen)}
    out["measure_ms"] = measure
    out["tui_cpu_ms_per_call"] = round(cpu_ms / settings.calls, 2)
    return out


def one_round(root: Path, settings: Settings, say: Say, *, warm_up: bool = False) -> dict[str, Any]:
    """One round in the new directory ``root``: its figures, nested as the JSON shows them. With
    ``warm_up`` the TUI is first started and quit once unmeasured (its time is kept as ``warmup_ms``)."""
    root.mkdir()
    pair = Pair(root)
    stamps: Stamps | None = None
    term: Terminal | None = None
    try:
        stamps = Stamps(pair.ann)
        nonce = uuid.uuid4().hex[:6]
        marker = f"Start{nonce}"
        first = pair.call(f"{marker}: is anyone around this evening?", "today")
        pair.resolve(first)
        wait_until(lambda: pair.call_status_at_ann(first) == "resolved", "ann's daemon to have bob's first call")
        out: dict[str, Any] = {}
        if warm_up:
            term = open_tui(pair, root, settings, f"{root.name}-warmup")
            out["warmup_ms"] = start(term, marker, settings.poll)
            quit_tui(term)
            term.close()
            say(f"  warm-up start (compiles the bytecode; not counted): {out['warmup_ms']['home']:.0f} ms")
        term = open_tui(pair, root, settings, root.name)
        out["start_ms"] = start(term, marker, settings.poll)
        tui = procfs.find_tui(term.pane_pid)
        if tui is None:
            raise RuntimeError("the TUI's process is not under the tmux pane; the screen shows:\n" + term.capture())
        say(f"  start: home screen after {out['start_ms']['home']:.0f} ms (TUI pid {tui})")
        time.sleep(SETTLE)
        rss_start = procfs.rss_kib(tui)
        out["idle"] = idle(term, {"tui": tui, "ann": pair.ann.pid, "bob": pair.bob.pid}, settings.idle_seconds)
        say(f"  idle: the TUI used {out['idle']['tui_cpu_ms_per_s']} ms of CPU per s")
        out |= calls(term, pair, stamps, tui, settings, nonce)
        out["tui_rss_mib"] = {"after_start": mib(rss_start), "after_calls": mib(procfs.rss_kib(tui))}
        say(f"  calls: p50 {out['call_ms']['p50']:.1f} ms, max {out['call_ms']['max']:.1f} ms "
            f"over {settings.calls}")
        quit_tui(term)
        return out
    finally:
        if term is not None:
            term.close()
        pair.stop()
        if stamps is not None:
            stamps.close()
