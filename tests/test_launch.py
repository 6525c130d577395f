"""The launcher (`meshcare` alone, `start`, `stop`, `tui`) with an injected terminal UI, against real
background daemons on loopback (no mDNS), plus the daemon's side of the hand-over (passphrase pipe,
rotated log)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meshcare import launch
from meshcare.cli import launch as cli_launch
from meshcare.client import ControlClient
from meshcare.config import Settings
from meshcare.crypto import keys, keystore
from meshcare.errors import BadInput, DaemonNotRunning, LaunchError, WrongPassphrase
from meshcare.transport import background

pytestmark = pytest.mark.timeout(120)

FLAGS = ["--no-discovery", "--listen", "127.0.0.1:0"]


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """A data dir with an identity (no passphrase); any daemon left running is ended by its pid."""
    monkeypatch.delenv("MESHCARE_PASSPHRASE_FILE", raising=False)
    home = tmp_path / "h"
    s = Settings(home=home)
    cli_launch.create_identity(s, "Ana", None)
    yield s
    pid = launch.running_pid(s)
    if pid is not None:
        launch.end(pid)


class FakeTui:
    """Stands in for meshcare.tui.app.run: records that the daemon answered when it was opened."""

    def __init__(self, code: int = 0) -> None:
        self.code = code
        self.opened: list[tuple[Path, bool]] = []

    def __call__(self, settings: Settings) -> int:
        self.opened.append((settings.home, launch.answers(settings)))
        return self.code


def no_setup(settings: Settings) -> None:
    raise AssertionError("the setup must not run when an identity exists")


def open_node(settings: Settings, tui: FakeTui, lines: list[str], **kw) -> int:
    return cli_launch.open_node(settings, FLAGS, tui=tui, setup=no_setup, say=lines.append, **kw)


def gone(pid: int) -> bool:
    return not launch.alive(pid)


def test_start_attach_stop(settings):
    tui, lines = FakeTui(code=3), []
    assert open_node(settings, tui, lines) == 3
    assert tui.opened == [(settings.home, True)]
    pid = launch.running_pid(settings)
    assert pid is not None and launch.alive(pid) and launch.answers(settings)  # closing the UI leaves it running
    assert "running in the background" in lines[0] and str(pid) in lines[0]
    assert "still running" in lines[-1] and "stop" in lines[-1]
    assert os.getsid(pid) == pid  # its own session: a closed terminal or Ctrl-C does not reach it
    assert "control socket listening" in settings.log_path.read_text()

    again, more = FakeTui(), []
    assert open_node(settings, again, more) == 0
    assert again.opened == [(settings.home, True)]
    assert launch.running_pid(settings) == pid and f"already running (pid {pid})" in more[0]

    assert cli_launch.attach(settings, tui=again) == 0  # `meshcare tui`

    assert launch.stop(settings) == pid
    assert gone(pid) and launch.running_pid(settings) is None and not launch.answers(settings)
    with pytest.raises(BadInput, match="no meshcare node is running"):
        launch.stop(settings)
    with pytest.raises(DaemonNotRunning, match="start it with"):
        cli_launch.attach(settings, tui=again)


def test_a_node_stopped_while_the_ui_was_open_is_not_called_running(settings):
    lines: list[str] = []

    def tui_that_stops_it(s: Settings) -> int:
        launch.stop(s)
        return 0
    assert cli_launch.open_node(settings, FLAGS, tui=tui_that_stops_it, setup=no_setup, say=lines.append) == 0
    assert "not running any more" in lines[-1] and "still running" not in lines[-1]


def test_no_tui_only_starts(settings):
    tui, lines = FakeTui(), []
    assert open_node(settings, tui, lines, no_tui=True) == 0
    assert tui.opened == [] and launch.answers(settings)
    assert "tui" in lines[-1] and "stop" in lines[-1]


def test_a_daemon_that_fails_to_start_is_one_line_and_leaves_no_process(settings, monkeypatch):
    settings.keystore_path.chmod(0o644)  # the daemon refuses a key other users can read
    spawned: list[launch.Spawned] = []
    real_spawn = launch.spawn

    def spy(*args, **kw):
        spawned.append(real_spawn(*args, **kw))
        return spawned[-1]

    monkeypatch.setattr(launch, "spawn", spy)
    tui = FakeTui()
    with pytest.raises(LaunchError) as failed:
        open_node(settings, tui, [])
    message = str(failed.value)
    assert "\n" not in message and "readable by other users" in message and "chmod 600" in message
    assert tui.opened == [] and gone(spawned[0].pid) and launch.running_pid(settings) is None


def test_a_daemon_that_never_answers_is_ended(settings):
    stuck = [sys.executable, "-c", "import sys, time; print('stuck on something', flush=True); time.sleep(60)"]
    spawned = launch.spawn(settings, FLAGS, command=stuck)
    with pytest.raises(LaunchError, match="did not answer within 1.5 s.*stuck on something"):
        launch.wait_ready(settings, spawned, timeout=1.5)
    assert gone(spawned.pid)


def test_the_cli_says_one_line_and_exits_1(settings):
    settings.keystore_path.chmod(0o644)
    env = {**os.environ, "MESHCARE_HOME": str(settings.home)}
    out = subprocess.run([sys.executable, "-m", "meshcare", "start", "--no-tui", *FLAGS], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("meshcare start: the node did not start:")
    assert "Traceback" not in out.stderr
    assert launch.running_pid(settings) is None

    out = subprocess.run([sys.executable, "-m", "meshcare", "tui"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1 and out.stderr.startswith("meshcare tui: no meshcare node is running")
    out = subprocess.run([sys.executable, "-m", "meshcare", "stop"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1 and out.stderr.startswith("meshcare stop: no meshcare node is running")


def test_a_passphrase_goes_through_a_pipe_only(tmp_path, monkeypatch):
    monkeypatch.delenv("MESHCARE_PASSPHRASE_FILE", raising=False)
    settings = Settings(home=tmp_path / "p")
    passphrase = "correct horse battery"
    cli_launch.create_identity(settings, "Bo", passphrase.encode())
    typed = iter(["wrong one", passphrase])
    lines: list[str] = []
    try:
        assert open_node(settings, FakeTui(), lines, ask=lambda prompt: next(typed)) == 0
        pid = launch.running_pid(settings)
        assert pid is not None and "does not unlock" in lines[0]
        assert passphrase.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        assert passphrase.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
        assert not [p for p in settings.home.iterdir() if p.is_file() and passphrase.encode() in p.read_bytes()]
        fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert not any(target.startswith("pipe:") for target in fds)  # read and closed
    finally:
        launch.stop(settings)


def test_three_wrong_passphrases_start_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("MESHCARE_PASSPHRASE_FILE", raising=False)
    settings = Settings(home=tmp_path / "p")
    keystore.create(settings.keystore_path, keys.Identity.generate("Bo"), b"secret",
                    ops=keystore.OPS_MIN, mem=keystore.MEM_MIN)
    with pytest.raises(WrongPassphrase, match="3 tries"):
        open_node(settings, FakeTui(), [], ask=lambda prompt: "nope")
    assert launch.running_pid(settings) is None


def test_first_run_goes_through_the_setup(tmp_path, monkeypatch):
    monkeypatch.delenv("MESHCARE_PASSPHRASE_FILE", raising=False)
    settings = Settings(home=tmp_path / "new")
    lines: list[str] = []
    assert cli_launch.open_node(settings, FLAGS, tui=FakeTui(), setup=lambda s: None, say=lines.append) == 1
    assert not settings.keystore_path.exists() and launch.running_pid(settings) is None
    assert "Nothing was set up" in lines[0]
    with pytest.raises(BadInput, match="no terminal to ask for your name.*meshcare init --name"):
        cli_launch.open_node(settings, FLAGS, tui=FakeTui(), say=lines.append)  # pytest's stdin is no terminal

    from meshcare.tui.setup import SetupResult

    def setup(s: Settings) -> SetupResult:
        fingerprint = cli_launch.create_identity(s, "Chloe", None)
        return SetupResult("Chloe", None, fingerprint, ())

    tui = FakeTui()
    try:
        assert cli_launch.open_node(settings, FLAGS, tui=tui, setup=setup, say=lines.append) == 0
        assert tui.opened == [(settings.home, True)] and lines[-3].startswith("Welcome, Chloe")
        with ControlClient.connect(settings.control_path) as client:
            assert client.request("status")["name"] == "Chloe"
    finally:
        launch.stop(settings)


def test_daemon_flags_are_written_back():
    from meshcare.cli import build_parser

    args = build_parser().parse_args(["start", "--no-discovery", "--peer", "127.0.0.1:1", "--peer", "h:2",
                                      "--listen", "127.0.0.1:0", "--passphrase-file", "rel/pw", "--log-level",
                                      "debug", "--no-tui"])
    flags = cli_launch.daemon_flags(args)
    assert flags == ["--listen", "127.0.0.1:0", "--peer", "127.0.0.1:1", "--peer", "h:2", "--no-discovery",
                     "--passphrase-file", str(Path("rel/pw").absolute()), "--log-level", "debug"]
    assert cli_launch.daemon_flags(build_parser().parse_args(["start"])) == []


def test_command_name_adds_home_only_when_needed(tmp_path, monkeypatch):
    monkeypatch.setenv("MESHCARE_HOME", str(tmp_path / "a"))
    monkeypatch.setattr(sys, "argv", [".venv/bin/meshcare"])
    assert cli_launch.command_name(Settings(home=tmp_path / "a")) == ".venv/bin/meshcare"
    assert cli_launch.command_name(Settings(home=tmp_path / "b")) == f".venv/bin/meshcare --home {tmp_path / 'b'}"
    monkeypatch.setattr(sys, "argv", ["/x/meshcare/__main__.py"])
    assert cli_launch.command_name(Settings(home=tmp_path / "a")) == "meshcare"


def test_running_pid_reads_the_lock_of_a_live_holder(tmp_path):
    import fcntl

    settings = Settings(home=tmp_path)
    assert launch.running_pid(settings) is None
    settings.lock_path.write_text("4242\n")
    assert launch.running_pid(settings) is None  # a file nobody holds: the daemon that wrote it is gone
    fd = os.open(settings.lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert launch.running_pid(settings) == 4242
    finally:
        os.close(fd)


# --- the daemon's side of the hand-over ----------------------------------------------------------------

def pipe_with(data: bytes) -> int:
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    return read_end


def test_read_passphrase_fd():
    assert background.read_passphrase_fd(pipe_with(b"s3cret phrase\nignored")) == b"s3cret phrase"
    for bad in (b"", b"\n\n", b"x" * 5000):
        with pytest.raises(BadInput):
            background.read_passphrase_fd(pipe_with(bad))
    with pytest.raises(BadInput, match="file descriptor"):
        background.read_passphrase_fd(987)


def test_the_log_file_is_rotated_and_takes_stderr_along(tmp_path):
    log = tmp_path / "daemon.log"
    code = f"""
import logging, sys
from pathlib import Path
from meshcare.transport import background
background.MAX_BYTES = 2000
background.log_to_file(Path({str(log)!r}), "info", "%(message)s")
for i in range(200):
    logging.getLogger("t").info("line %d %s", i, "x" * 40)
print("last words on stderr", file=sys.stderr, flush=True)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["daemon.log", "daemon.log.1"]
    for name in files:
        path = tmp_path / name
        assert path.stat().st_size <= 2100 and path.stat().st_mode & 0o777 == 0o600
    text = log.read_text()
    assert "line 199" in text and text.rstrip().endswith("last words on stderr")


@pytest.fixture
def subreaper():
    """Make this process the reaper of orphaned descendants for one test (Linux), so a daemon whose
    launcher exited is collected here once it ends, not left to an init that may not reap it."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        pytest.skip("no PR_SET_CHILD_SUBREAPER here")
    yield
    libc.prctl(pr_set_child_subreaper, 0, 0, 0, 0)


def test_stop_waits_for_a_daemon_that_is_not_our_child(settings, subreaper):
    """`meshcare start --no-tui` in another process leaves the daemon running after it exits; `meshcare
    stop`, in yet another, is not its parent either: it waits on the lock."""
    env = {**os.environ, "MESHCARE_HOME": str(settings.home)}
    out = subprocess.run([sys.executable, "-m", "meshcare", "start", "--no-tui", *FLAGS], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid = launch.running_pid(settings)
    assert pid is not None and "running in the background" in out.stdout
    out = subprocess.run([sys.executable, "-m", "meshcare", "stop"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and f"pid {pid}" in out.stdout
    assert launch.running_pid(settings) is None and gone(pid)


def test_end_uses_sigkill_when_sigterm_is_ignored(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
                             "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    launch.end(proc.pid, grace=0.5)
    assert gone(proc.pid)
    proc.wait(timeout=1)  # already collected by end(); the Popen object only learns it now
    proc.stdout.close()


def test_help_lists_the_launcher_commands_first():
    out = subprocess.run([sys.executable, "-m", "meshcare", "--help"], capture_output=True, text=True, timeout=60)
    listed = [line.split()[0] for line in out.stdout.splitlines() if line.startswith("    ") and line[4:5] != " "]
    assert listed[:4] == ["start", "stop", "tui", "demo"] and "Run `meshcare` alone to begin" in out.stdout
    for command in ("start", "stop", "tui", "demo"):
        sub = subprocess.run([sys.executable, "-m", "meshcare", command, "--help"], capture_output=True,
                             text=True, timeout=60)
        assert sub.returncode == 0 and f"usage: meshcare {command}" in sub.stdout
