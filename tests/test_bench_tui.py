"""benchmarks/bench_tui.py (the terminal UI against real daemons): what it computes and parses, without
tmux or daemons. The control-mode parser, /proc parsing and the process walk (on a /proc of the test's
own), the spreads, medians and the table, the pane's shell line, the flags, and the one line it says
when tmux is missing. No timing is asserted."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_tui  # noqa: E402
from tuibench import figures, procfs  # noqa: E402
from tuibench import terminal as term  # noqa: E402
from tuibench.control_mode import Attached, ClientExit, PaneOutput, Parser, ReplyBlock, unescaped_size  # noqa: E402


# --- tmux control mode ------------------------------------------------------------------------------

def feed_all(parser: Parser, lines: list[str]) -> list[object]:
    return [m for m in (parser.feed(line) for line in lines) if m is not None]


def test_a_reply_block_is_its_lines_between_begin_and_the_end_with_the_same_number() -> None:
    parser = Parser()
    screen = ["Calls for support", "%end 1 99 1", "", "%begin 2 3 1"]      # a screen may hold such lines
    got = feed_all(parser, ["%begin 1796625664 273 1", *screen, "%end 1796625664 273 1"])
    assert got == [ReplyBlock("273", tuple(screen), error=False)]


def test_an_error_block_says_so() -> None:
    got = feed_all(Parser(), ["%begin 1 7 1", "unknown command: nope", "%error 1 7 1"])
    assert got == [ReplyBlock("7", ("unknown command: nope",), error=True)]


def test_notifications_between_blocks() -> None:
    got = feed_all(Parser(), ["%session-changed $0 main", "%output %0 hello 2\\015\\012", "%window-renamed @0 sh",
                              "%exit"])
    assert got == [Attached("main"), PaneOutput("%0", 9), ClientExit("")]
    assert feed_all(Parser(), ["%exit server exited"]) == [ClientExit("server exited")]


def test_an_output_value_counts_escapes_as_one_byte_and_utf8_as_its_bytes() -> None:
    assert unescaped_size("") == 0
    assert unescaped_size("abc") == 3
    assert unescaped_size("\\033[1m") == 4          # ESC [ 1 m
    assert unescaped_size("\\134") == 1             # a backslash, escaped
    assert unescaped_size("●") == 3
    assert unescaped_size("\\01") == 3              # not a whole escape: counted as written


# --- /proc -------------------------------------------------------------------------------------------

STAT = "4242 (python3 (meshcare) x) S 4241 4242 4242 0 -1 4194304 1 0 0 0 {u} {s} 0 0 20 0 3 0 100 0 0"


def test_a_stat_line_gives_the_parent_and_the_cpu_ticks_even_with_parentheses_in_the_name() -> None:
    assert procfs.parse_stat(STAT.format(u=120, s=30)) == (4241, 150)
    for bad in ("", "4242 python3 S 1", "4242 (x) S 1 2"):
        with pytest.raises(ValueError):
            procfs.parse_stat(bad)


def test_status_gives_rss_and_context_switches() -> None:
    status = "Name:\tpython3\nVmRSS:\t   45312 kB\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n"
    assert procfs.parse_rss_kib(status) == 45312
    assert procfs.parse_rss_kib("Name:\tzombie\n") == 0
    assert procfs.parse_switches(status) == 127
    assert procfs.parse_switches("Name:\tx\n") == 0


def fake_proc(root: Path, pid: int, ppid: int, argv: list[str], *, ticks: int = 0, rss: int = 0,
              threads: dict[int, int] | None = None) -> None:
    d = root / str(pid)
    d.mkdir()
    (d / "stat").write_text(STAT.replace("4242", str(pid), 1).replace("4241", str(ppid), 1).format(u=ticks, s=0))
    (d / "status").write_text(f"VmRSS:\t{rss} kB\n")
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    for tid, switches in (threads or {pid: 0}).items():
        (d / "task" / str(tid)).mkdir(parents=True)
        (d / "task" / str(tid) / "status").write_text(f"voluntary_ctxt_switches:\t{switches}\n"
                                                      "nonvoluntary_ctxt_switches:\t1\n")


def test_the_tui_is_found_under_the_pane_and_nowhere_else(tmp_path: Path) -> None:
    fake_proc(tmp_path, 1, 0, ["init"])
    fake_proc(tmp_path, 100, 1, ["sh", "-c", "read _ < gate; ..."])                    # the pane's shell
    fake_proc(tmp_path, 101, 100, ["/v/bin/python", "-m", "meshcare", "--home", "/t/ann", "tui"],
              ticks=250, rss=46000, threads={101: 40, 102: 2})
    fake_proc(tmp_path, 200, 1, ["/v/bin/python", "-m", "meshcare", "--home", "/t/bob", "tui"])  # not ours
    fake_proc(tmp_path, 300, 1, ["/v/bin/python", "-m", "meshcare", "daemon"])
    (tmp_path / "self").mkdir()                                                          # not a pid
    assert procfs.descendants(100, procfs.parents(tmp_path)) == [101]
    assert procfs.descendants(1, procfs.parents(tmp_path)) == [100, 200, 300, 101]
    assert procfs.find_tui(100, tmp_path) == 101
    assert procfs.find_tui(101, tmp_path) == 101         # the pane's process is the TUI itself (exec)
    assert procfs.find_tui(300, tmp_path) is None
    assert procfs.cpu_ticks(101, tmp_path) == 250
    assert procfs.rss_kib(101, tmp_path) == 46000
    assert procfs.switches(101, tmp_path) == 40 + 1 + 2 + 1


def test_what_counts_as_the_tui() -> None:
    assert procfs.is_tui(["python", "-m", "meshcare", "tui"])
    assert procfs.is_tui(["python", "-m", "cProfile", "-o", "p", "-m", "meshcare", "--home", "d", "tui"])
    assert procfs.is_tui(["/v/bin/python", "/v/bin/meshcare", "tui"])
    assert not procfs.is_tui(["python", "-m", "meshcare", "daemon"])
    assert not procfs.is_tui(["tui", "meshcare"])
    assert not procfs.is_tui([])


# --- figures ----------------------------------------------------------------------------------------

def test_spread_is_rank_percentiles_and_the_max() -> None:
    values = [float(v) for v in range(1, 101)]               # 1 .. 100
    assert figures.spread(values) == {"p50": 51.0, "p90": 91.0, "max": 100.0, "n": 100}
    assert figures.spread([7.0]) == {"p50": 7.0, "p90": 7.0, "max": 7.0, "n": 1}
    with pytest.raises(ValueError):
        figures.spread([])


def test_per_second_refuses_an_empty_window() -> None:
    assert figures.per_second(30, 10) == 3
    with pytest.raises(ValueError):
        figures.per_second(1, 0)


def test_summary_takes_each_figures_median_over_the_rounds_it_is_in() -> None:
    rounds = [{"start_ms": {"home": 600.0}, "call_ms": {"p50": 40.0}, "warmup_ms": {"home": 2000.0}},
              {"start_ms": {"home": 900.0}, "call_ms": {"p50": 50.0}},
              {"start_ms": {"home": 700.0}, "call_ms": {"p50": 45.0}, "note": "text is no figure"}]
    summed = figures.summary(rounds)
    assert summed["start_ms.home"] == {"median": 700.0, "rounds": [600.0, 900.0, 700.0]}
    assert summed["call_ms.p50"]["median"] == 45.0
    assert summed["warmup_ms.home"] == {"median": 2000.0, "rounds": [2000.0]}
    assert "note" not in summed


def test_the_table_lists_known_figures_with_targets_medians_and_rounds() -> None:
    summed = figures.summary([{"start_ms": {"home": 612.4}, "idle": {"tui_cpu_ms_per_s": 0.0}, "other": 1},
                              {"start_ms": {"home": 1234.6}, "idle": {"tui_cpu_ms_per_s": 1.0}, "other": 2}])
    lines = figures.table(summed).splitlines()
    assert lines[0].split() == ["figure", "target", "median", "rounds"]
    home = next(line for line in lines if "home screen" in line)
    assert "<= 1000" in home and home.split()[-3:] == ["924", "612", "1,235"]
    idle = next(line for line in lines if "idle: TUI CPU" in line)
    assert idle.split()[-4:] == ["~0", "0.50", "0", "1"]
    assert len(lines) == 4                                   # "other" is not a row
    keys = [key for key, _, _ in figures.ROWS]
    assert len(keys) == len(set(keys))


def test_numbers_in_the_table() -> None:
    assert [figures.number(v) for v in (0.0, 0.349, 3.94, 10.0, 99.94, 100.0, 1234.6, 7)] == \
        ["0", "0.35", "3.9", "10", "99.9", "100", "1,235", "7"]


# --- the terminal's shell line, the flags, tmux missing ---------------------------------------------

def test_the_pane_waits_for_the_gate_then_runs_the_program_with_its_environment(tmp_path: Path) -> None:
    line = term.shell_line(["python", "-m", "meshcare", "--home", "/t/a b", "tui"],
                           {"PYTHONPATH": "/repo", "PYTHONDONTWRITEBYTECODE": None}, tmp_path, tmp_path / "gate")
    words = shlex.split(line.split(";")[1].split("&&")[1])
    assert line.startswith(f"read _ < {tmp_path / 'gate'};")
    assert words == ["env", "-u", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH=/repo", "python", "-m", "meshcare",
                     "--home", "/t/a b", "tui"]
    assert "exited with status" in line


def test_flags_are_checked() -> None:
    args = bench_tui.parse_args([])
    assert (args.rounds, args.calls, args.idle_seconds, args.poll_ms, args.json) == (5, 100, 10.0, 5.0, False)
    for bad in (["--rounds", "0"], ["--calls", "0"], ["--idle-seconds", "0"], ["--poll-ms", "-1"]):
        with pytest.raises(SystemExit) as exc:
            bench_tui.parse_args(bad)
        assert exc.value.code == 2


def test_help_says_what_is_measured() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_tui.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for words in ("--rounds", "--calls", "--idle-seconds", "--json", "tmux", "first screen capture"):
        assert words in done.stdout


def test_without_tmux_it_says_so_in_one_line_and_exits_1(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(term.shutil, "which", lambda name: None)
    assert bench_tui.main(["--rounds", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tmux is not installed" in err[0]
