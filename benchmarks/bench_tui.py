"""The terminal UI against real daemons: start-up, a call reaching the screen, memory, CPU while idle.

Each round starts two `meshcare daemon` processes on 127.0.0.1 (no discovery, static peers) in a
temporary directory, ann and bob in one circle, and runs the real `python -m meshcare --home ANN tui`
(this checkout's code) in a 100x30 terminal of a private tmux server, read through tmux's control
mode (benchmarks/tuibench/terminal.py). Its bytecode is kept under the temporary directory, and
round 1 first starts and quits it once unmeasured to compile it (an installed meshcare has its
bytecode). Per round:

1. start: from letting the TUI's process start (the tmux pane and its shell are up before) to the first
   bytes it writes to the terminal, and to the home screen with its data: the status line saying
   "linked to 1 neighbour" and the text of a call bob made before (resolved, so it is listed).
2. idle: after 1 s of settling, the TUI's RSS, then --idle-seconds of nothing: the CPU (utime + stime,
   /proc/PID/stat, 10 ms ticks) and wake-ups (context switches) of the TUI and of both daemons, and
   the bytes the TUI wrote to its terminal, per second.
3. calls: bob posts --calls calls for support ("right now"), one at a time; each is timed from its
   arrival at ann's daemon (a subscriber on ann's control socket stamps the `circle` event of the
   call's envelope, and `call.changed`, on receipt) to the first screen capture that shows its text.
   bob then resolves it; once the screen shows no call needing someone, the benchmark presses Home
   (the highlight to the top of the calls list, as a person looking for new calls would) and waits
   until the TUI wrote nothing for 0.1 s before the next call. Without Home the list keeps the
   highlight on the resolved call as it moves down, and once the list holds more rows than it shows
   the new call's row is scrolled out of view (the title still counts it). Then the TUI's CPU per
   call and RSS, and `q`.

The screen is captured again as soon as tmux reports that the TUI wrote to its terminal, and every
--poll-ms otherwise; the figures run to the moment the capture that showed the text returned, so they
include what measuring adds, and the output says how much (the TUI's write -> that capture; one
capture's round trip). Nothing is subtracted. docs/benchmarks.md, section 12, says what each figure means.

Every process (daemons, tmux server, TUI) and the temporary directory are removed at the end, on an
error and on Ctrl-C. Exit status 1 with one line when tmux is missing or a round fails.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from meshcare.errors import MeshcareError  # noqa: E402
from tuibench import figures, rounds  # noqa: E402
from tuibench.terminal import TmuxMissing, tmux_path  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds, each with fresh daemons and a fresh TUI; the table shows medians "
                         "(default: %(default)s)")
    ap.add_argument("--calls", type=int, default=100, help="calls per round, one at a time (default: %(default)s)")
    ap.add_argument("--idle-seconds", type=float, default=10.0,
                    help="seconds of nothing for the idle CPU figures (default: %(default)s; the TUI's own "
                         "30 s redraw of relative times falls inside only from 30 s)")
    ap.add_argument("--poll-ms", type=float, default=5.0,
                    help="ms between captures while nothing is drawn (default: %(default)s; a capture also "
                         "follows every write of the TUI at once)")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="run each TUI under cProfile, writing DIR/roundN.prof (and round1-warmup.prof) when "
                         "it quits (slows it down: for finding where the time goes, not for figures)")
    ap.add_argument("--json", action="store_true", help="print one JSON object (every round, the medians) "
                                                        "instead of the table")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.calls < 1:
        ap.error("--rounds and --calls must be at least 1")
    if args.idle_seconds <= 0 or args.poll_ms <= 0:
        ap.error("--idle-seconds and --poll-ms must be more than 0")
    if args.profile is not None:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    return args


def commit() -> str:
    """This checkout's commit, with "+changes" when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def setup(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    version = subprocess.run([tmux_path(), "-V"], capture_output=True, text=True).stdout.strip()
    return {"command": "python benchmarks/bench_tui.py " + " ".join(shlex.quote(a) for a in argv),
            "commit": commit(), "python": sys.version.split()[0], "tmux": version,
            "terminal": f"{rounds.WIDTH}x{rounds.HEIGHT}", "rounds": args.rounds, "calls": args.calls,
            "idle_seconds": args.idle_seconds, "poll_ms": args.poll_ms,
            "notes": ["per-author budget (author_per_minute) lifted to 10,000,000 in both daemons' config.toml",
                      "a second subscriber on ann's control socket stamps the events (ann's daemon encodes "
                      "each event for it and for the TUI)"]}


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    try:
        tmux_path()
    except TmuxMissing as exc:
        print(f"bench_tui.py: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    sys.setswitchinterval(0.0005)   # the stamping threads wake within 0.5 ms, not the default 5 ms

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)
    done: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="mcbench-tui-") as tmp:
            settings = rounds.Settings(calls=args.calls, idle_seconds=args.idle_seconds, poll=args.poll_ms / 1000,
                                       checkout=ROOT, pycache=Path(tmp) / "pycache", profile=args.profile)
            for n in range(1, args.rounds + 1):
                say(f"round {n}/{args.rounds}")
                done.append(rounds.one_round(Path(tmp) / f"round{n}", settings, say, warm_up=n == 1))
    except KeyboardInterrupt:
        say("bench_tui.py: interrupted; every process it started is stopped and its directory removed")
        return 130
    except (RuntimeError, OSError, MeshcareError) as exc:
        say(f"bench_tui.py: {exc}")
        return 1
    summed = figures.summary(done)
    info = setup(args, argv)
    if args.json:
        print(json.dumps({"setup": info, "rounds": done,
                          "medians": {key: value["median"] for key, value in summed.items()}}, indent=2))
    else:
        print(f"meshcare tui, {info['terminal']} in tmux ({info['tmux']}), commit {info['commit']}, "
              f"{args.rounds} round(s) x {args.calls} calls, idle {args.idle_seconds:g} s, poll {args.poll_ms:g} ms")
        print(figures.table(summed))
        for note in info["notes"]:
            print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
