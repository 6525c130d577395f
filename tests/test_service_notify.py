"""sd_notify: the datagrams systemd's Type=notify expects, from a real daemon process, and the journal log.

Budget: about 4 s (one daemon process, a watchdog of 0.1 s)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from meshcare.client import ControlClient
from meshcare.service import journal, sd_notify, status


pytestmark = pytest.mark.timeout(60)


def test_socket_address_path_abstract_and_refusals():
    assert sd_notify.socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert sd_notify.socket_address("@meshcare-x") == b"\0meshcare-x"
    for value in ("", "@", "relative/path", "vsock:2:1234"):
        assert sd_notify.socket_address(value) is None


def test_watchdog_interval_is_half_and_only_for_us():
    assert sd_notify.watchdog_interval({"WATCHDOG_USEC": "60000000"}, 42) == 30.0
    assert sd_notify.watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "42"}, 42) == 30.0
    assert sd_notify.watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "7"}, 42) is None
    for usec in ("", "0", "-5", "soon"):
        assert sd_notify.watchdog_interval({"WATCHDOG_USEC": usec}, 42) is None


def test_status_is_one_line():
    assert sd_notify.status("serving:\n links  on 7447") == "STATUS=serving: links on 7447"


def test_nothing_without_notify_socket():
    notifier = sd_notify.Notifier.from_environment({"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled and notifier.watchdog_interval is None
    assert notifier.send(sd_notify.READY) is False


def test_a_missing_socket_is_logged_once_and_never_raises(tmp_path, caplog):
    notifier = sd_notify.Notifier(str(tmp_path / "gone.sock"))
    assert notifier.send(sd_notify.READY) is False
    assert notifier.send(sd_notify.WATCHDOG) is False
    assert notifier.failures == 2
    assert len([r for r in caplog.records if "service manager" in r.getMessage()]) == 1


def test_stderr_is_journal_matches_device_and_inode(tmp_path):
    with open(tmp_path / "err", "wb") as f:
        st = os.fstat(f.fileno())
        assert journal.stderr_is_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}, f.fileno())
        assert not journal.stderr_is_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"}, f.fileno())
        assert not journal.stderr_is_journal({"JOURNAL_STREAM": "junk"}, f.fileno())
        assert not journal.stderr_is_journal({}, f.fileno())


def _messages(sock: socket.socket, until: float) -> list[str]:
    """Datagrams received until ``until`` (monotonic), each as its text."""
    got: list[str] = []
    while time.monotonic() < until:
        sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return got


def _recv(sock: socket.socket, timeout: float = 30.0) -> str:
    sock.settimeout(timeout)
    return sock.recv(4096).decode()


def test_daemon_ready_watchdog_stopping_and_journal_log(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "MESHCARE_HOME": str(home)}
    env.pop("MESHCARE_PASSPHRASE_FILE", None)
    subprocess.run([sys.executable, "-m", "meshcare", "init", "--name", "svc"], env=env, check=True,
                   capture_output=True, timeout=60)
    name = f"meshcare-test-notify-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    stderr_path = tmp_path / "stderr"
    with sock, open(stderr_path, "wb") as stderr:
        st = os.fstat(stderr.fileno())
        env.update(NOTIFY_SOCKET="@" + name, WATCHDOG_USEC="200000",
                   JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        proc = subprocess.Popen([sys.executable, "-m", "meshcare", "daemon", "--no-discovery",
                                 "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            first = _recv(sock)
            # READY comes only once clients can talk to the daemon: the control socket answers at once
            client = ControlClient.connect(home / "control.sock")
            try:
                assert "listen" in client.request("status")
            finally:
                client.close()
            # what `meshcare service status` shows of the daemon (its own control socket answer)
            answer, error = status.daemon_status(home)
            assert error is None and answer is not None and answer["name"] == "svc"
            lines = first.split("\n")
            assert lines[0] == "READY=1" and lines[1].startswith("STATUS=serving: links on port ")
            watchdogs = [m for m in _messages(sock, time.monotonic() + 1.0) if m == "WATCHDOG=1"]
            assert len(watchdogs) >= 3, watchdogs       # every 0.1 s, with room for a slow machine
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        rest = _messages(sock, time.monotonic() + 0.5)
    assert rest and rest[-1] == "STOPPING=1\nSTATUS=stopping"
    log = stderr_path.read_text()
    assert "INFO meshcare.daemon: stopped" in log
    assert f"meshcare[{proc.pid}]" not in log       # journald adds the pid and the time itself


def test_status_says_why_when_no_daemon_answers(tmp_path):
    answer, error = status.daemon_status(tmp_path)
    assert answer is None and error is not None and "no meshcare daemon is running" in error
