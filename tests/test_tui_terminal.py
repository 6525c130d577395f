"""The real ``meshcare`` terminal UI in real terminals (tmux), against real daemons on loopback.

Ann and Bob each run a daemon (static peers, no discovery) and the TUI in a terminal of their own. Ann
writes a call for support with keys; it appears on Bob's screen; Bob claims it with ``c``; Ann's screen
shows that Bob has it. And ``meshcare demo`` opens the TUI on a call, and leaves no process and no file
behind when the person quits with ``q``. Everything a person would see is read off the screen
(capture-pane), so a failure prints that screen.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from .helpers import DaemonProcess, wait_real
from .tmuxterm import Terminal, need_tmux

pytestmark = pytest.mark.slow

MESHCARE = [sys.executable, "-m", "meshcare"]
CALL_TEXT = "Could someone come by tonight? The stairs are hard"


def _tui(node: DaemonProcess) -> Terminal:
    return Terminal([*MESHCARE, "--home", str(node.home), "tui"], env={"MESHCARE_HOME": str(node.home)},
                    width=100, height=30)


def _logs(*nodes: DaemonProcess) -> str:
    """The daemons' and the TUIs' logs, for a failure message (what a person would send in a bug report)."""
    out = []
    for node in nodes:
        for name in ("daemon.log", "tui.log"):
            path = node.home / name
            if path.exists():
                out.append(f"--- {node.home.name}/{name} (last 40 lines)\n" + "\n".join(path.read_text().splitlines()[-40:]))
    return "\n".join(out)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_a_call_written_with_keys_reaches_the_neighbour_who_claims_it_with_c(tmp_path: Path) -> None:
    need_tmux()
    ann, bob = DaemonProcess(tmp_path / "ann", "Ann"), DaemonProcess(tmp_path / "bob", "Bob")
    terminals: list[Terminal] = []
    try:
        ann.start()
        bob.start(ann.port)
        ann.request("circle.create", name="Elm St")
        token = ann.request("circle.invite", circle="Elm St")["token"]
        bob.request("circle.join", token=token)
        wait_real(lambda: len(ann.request("circle.members", circle="Elm St")["members"]) == 2, "Bob to join")
        ann_screen, bob_screen = _tui(ann), _tui(bob)
        terminals += [ann_screen, bob_screen]
        for screen in (ann_screen, bob_screen):
            screen.wait_for("linked to 1 neighbour")
            screen.wait_for("Elm St")
        ann_screen.press("n")
        ann_screen.wait_for("What is going on, in your own words")
        ann_screen.type(CALL_TEXT)
        ann_screen.press("C-s")
        ann_screen.wait_for("Your call for support went to Elm St")
        shown = bob_screen.wait_for(CALL_TEXT[:40])
        assert "needs someone" in shown and "from Ann" in shown
        bob_screen.press("c")
        bob_screen.wait_for("you have it")
        ann_screen.press("Escape")                      # from the sent call back home
        ann_screen.wait_for("Bob has it")
        assert ann.request("calls.list")["calls"][0]["status"] == "claimed"
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_logs(ann, bob)}") from None
    finally:
        for t in terminals:
            t.close()
        for node in (ann, bob):
            if node.proc is not None:
                node.stop()


def test_meshcare_demo_shows_a_call_and_leaves_nothing_behind(tmp_path: Path) -> None:
    need_tmux()
    tmp = tmp_path / "t"          # short: the demo's control sockets live under it (107-byte limit)
    tmp.mkdir()
    with Terminal([*MESHCARE, "demo", "--pace", "0.5"], env={"TMPDIR": str(tmp)}, width=100, height=30) as term:
        term.wait_for("Calls for support", timeout=60)
        term.wait_for("Chloe", timeout=60)
        shown = term.wait_for("needs someone", timeout=60)
        assert "Elm St (demo)" in shown
        term.press("q")
        after = term.wait_for("The demo is over", timeout=30)
    pids = [int(p) for p in re.findall(r"pid (\d+)", after.replace("\n", " "))]
    assert len(pids) == 3, after
    wait_real(lambda: not any(_alive(pid) for pid in pids), "the demo's daemons to end")
    assert list(tmp.iterdir()) == []
