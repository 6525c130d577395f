"""The notifier running real commands (trio's real clock: these wait on processes): the environment, stdin,
working directory, output in the log, the timeout that stops a command and its children, and one
rate-limited line for a command that is missing or fails."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from meshcare.notify.settings import NotifySettings
from meshcare.transport.notifier import Notifier

from .test_notify_rules import ME, new_call

pytestmark = pytest.mark.timeout(60)


async def until(predicate: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Poll on the real clock: the commands are real processes."""
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.02)
        return
    raise AssertionError(f"timed out waiting for {what}")


def notifier(tmp_path: Path, *command: str, timeout: float = 10.0) -> Notifier:
    return Notifier(NotifySettings(command=command, timeout=timeout), ME, cwd=tmp_path)


async def test_the_command_gets_the_variables_no_stdin_the_data_dir_and_its_output_is_logged(tmp_path, caplog):
    caplog.set_level(logging.INFO, "meshcare.notify")
    script = ('env | grep ^MESHCARE_ | sort > env.txt; cat > stdin.txt; pwd > cwd.txt; '
              'printf "lit\\033[31m red\\nsecond line"; echo oops >&2')
    n = notifier(tmp_path, "/bin/sh", "-c", script)
    async with trio.open_nursery() as nursery:
        await nursery.start(n.run)
        n.consider(new_call(), 0.0)
        await until(lambda: n.counts["notify_runs"] == 1 and n.running == 0, "the command to run")
        nursery.cancel_scope.cancel()
    env = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines())
    assert env["MESHCARE_EVENT"] == "call" and env["MESHCARE_SUMMARY"] == "New call in Elm St (now)"
    assert env["MESHCARE_CIRCLE"] == "Elm St" and env["MESHCARE_URGENCY"] == "now" and env["MESHCARE_CALL"] == "11" * 32
    assert (tmp_path / "stdin.txt").read_text() == ""
    assert Path((tmp_path / "cwd.txt").read_text().strip()).resolve() == tmp_path.resolve()
    said = [r.getMessage() for r in caplog.records if "said" in r.getMessage()]
    assert said == ["notify_command said: lit\\x1b[31m red\\x0asecond lineoops"]


async def test_a_command_that_hangs_is_stopped_with_its_children_and_the_next_one_runs(tmp_path, caplog):
    script = 'if [ -e first ]; then touch second; exit 0; fi; touch first; sleep 30 & echo $! > child; sleep 30'
    n = notifier(tmp_path, "/bin/sh", "-c", script, timeout=0.5)
    async with trio.open_nursery() as nursery:
        await nursery.start(n.run)
        n.consider(new_call(), 0.0)
        await until(lambda: n.counts["notify_timed_out"] == 1 and n.running == 0, "the timeout")
        n.consider(new_call(id="22" * 32), 0.0)
        await until(lambda: (tmp_path / "second").exists() and n.running == 0, "the next command")
        nursery.cancel_scope.cancel()
    child = int((tmp_path / "child").read_text())
    assert not _alive(child), "the hanging command's child outlived it"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["notify_command /bin/sh did not finish within 0.5 s and was stopped"]
    assert n.statistics()["notify_failed"] == 0


async def test_a_missing_or_failing_command_is_one_line_per_kind_not_one_per_call(tmp_path, caplog):
    missing = notifier(tmp_path, str(tmp_path / "no-such-led"))
    failing = notifier(tmp_path, "/bin/sh", "-c", "echo 'no \x1b]0;LED'; exit 3")
    async with trio.open_nursery() as nursery:
        for n in (missing, failing):
            await nursery.start(n.run)
            for k in range(3):
                n.consider(new_call(id=f"{k:064x}"), 0.0)
            await until(lambda n=n: n.counts["notify_failed"] == 3 and n.running == 0, "three failures")
        nursery.cancel_scope.cancel()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3, warnings
    assert "is not an executable program here" in warnings[0]
    assert warnings[1].startswith(f"notify_command cannot be started: {tmp_path / 'no-such-led'}: No such file")
    assert warnings[2] == "notify_command /bin/sh failed (exit status 3): no \\x1b]0;LED"


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for a parent that is not us counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status and os.path.exists(f"/proc/{pid}")
