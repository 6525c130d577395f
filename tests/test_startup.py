"""Starting `meshcare daemon`: a busy port moves to the next free one and says so; every way start-up can
fail is one line on stderr naming what to do, exit status 1, no traceback (``--debug`` shows it).

Real processes on 127.0.0.1 (static peers only, no mDNS), each in its own data directory; the busy port
is a socket this test binds and listens on, as another household's daemon would.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from meshcare.crypto import keystore
from meshcare.crypto.keys import Identity
from meshcare.errors import StartupError
from meshcare.transport import command, listening

from .helpers import wait_real

pytestmark = pytest.mark.timeout(120)


def home_of(tmp_path: Path, name: str = "a", passphrase: bytes | None = None) -> Path:
    """A data dir with an identity in it, as `meshcare init` leaves it (0700; fast key derivation)."""
    home = tmp_path / name
    home.mkdir(mode=0o700)
    keystore.create(home / "identity.key", Identity.generate("ann"), passphrase, ops=keystore.OPS_MIN,
                    mem=keystore.MEM_MIN)
    return home


def meshcare(home: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshcare", "--home", str(home), *argv], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "MESHCARE_PASSPHRASE_FILE": ""})


def daemon(home: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return meshcare(home, "daemon", "--no-discovery", *argv, timeout=timeout)


def one_line(out: subprocess.CompletedProcess[str], *words: str) -> str:
    """The run failed as a start-up failure must: status 1, exactly one line on stderr, no traceback."""
    assert out.returncode == 1, (out.returncode, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("meshcare daemon: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port someone else listens on (127.0.0.1)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


# --- a busy port ------------------------------------------------------------------------------------


def test_a_busy_configured_port_moves_to_the_next_free_one_and_says_so(tmp_path: Path, busy_port: int) -> None:
    home = home_of(tmp_path)
    (home / "config.toml").write_text(f'listen = "127.0.0.1:{busy_port}"\ndiscovery = false\n')
    log = home / "daemon.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "meshcare", "--home", str(home), "daemon"],
                                stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_real(lambda: meshcare(home, "status").returncode == 0, "the daemon to start")
        port = int(json.loads(meshcare(home, "status", "--json").stdout)["listen"].rsplit(":", 1)[1])
        assert busy_port < port < busy_port + listening.PORT_TRIES
        said = [line for line in log.read_text().splitlines() if "in use" in line]
        assert len(said) == 1 and said[0].endswith(
            f"port {busy_port} is in use (another meshcare on this machine?); listening on {port} instead")
        # the second daemon on the same data dir is refused in one line, naming the first
        one_line(daemon(home, "--listen", "127.0.0.1:0"), "already running", f"pid {proc.pid}")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_a_busy_port_given_with_listen_is_an_error(tmp_path: Path, busy_port: int) -> None:
    line = one_line(daemon(home_of(tmp_path), "--listen", f"127.0.0.1:{busy_port}"),
                    f"port {busy_port} on 127.0.0.1 is in use", "--listen", "leave --listen out")
    assert "another meshcare on this machine?" in line


def test_debug_shows_the_traceback_and_then_the_line(tmp_path: Path, busy_port: int) -> None:
    out = daemon(home_of(tmp_path), "--listen", f"127.0.0.1:{busy_port}", "--debug")
    assert out.returncode == 1 and "Traceback" in out.stderr
    assert out.stderr.splitlines()[-1].startswith(f"meshcare daemon: port {busy_port} on 127.0.0.1 is in use")
    top = meshcare(home_of(tmp_path, "b"), "--debug", "daemon", "--no-discovery", "--listen",
                   f"127.0.0.1:{busy_port}")
    assert top.returncode == 1 and "Traceback" in top.stderr


async def test_when_every_port_tried_is_busy_the_line_names_them() -> None:
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        first.listen()
        port = first.getsockname()[1]
        try:
            second.bind(("127.0.0.1", port + 1))
        except OSError:
            pytest.skip("the next port is taken by someone else")
        second.listen()
        with pytest.raises(StartupError, match=f"ports {port} to {port + 1} on 127.0.0.1 are all in use"):
            await listening.open_listeners("127.0.0.1", port, tries=2)
        listeners = await listening.open_listeners("127.0.0.1", port, tries=3)
        try:
            assert listeners[0].socket.getsockname()[1] == port + 2
        finally:
            for listener in listeners:
                await listener.aclose()
    await trio.lowlevel.checkpoint()


@pytest.mark.parametrize("code, words", [
    (errno.EACCES, ("no permission to listen on 0.0.0.0:80", "below 1024", "--listen")),
    (errno.EADDRNOTAVAIL, ("192.0.2.7 is not an address of this machine", "0.0.0.0")),
    (errno.ENOBUFS, ("cannot listen on 192.0.2.7:80", "--listen")),
])
def test_other_bind_failures_are_named(code: int, words: tuple[str, ...]) -> None:
    host = "" if code == errno.EACCES else "192.0.2.7"
    line = listening.describe(OSError(code, os.strerror(code)), host, 80, 80, 1)
    for word in words:
        assert word in line


# --- every other way start-up fails ---------------------------------------------------------------


def test_no_identity(tmp_path: Path) -> None:
    one_line(daemon(tmp_path / "nobody", "--listen", "127.0.0.1:0"), "no identity", "meshcare init --name")


def test_a_wrong_passphrase(tmp_path: Path) -> None:
    home = home_of(tmp_path, passphrase=b"right")
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong\n")
    wrong.chmod(0o600)
    one_line(daemon(home, "--listen", "127.0.0.1:0", "--passphrase-file", str(wrong)), "passphrase does not unlock")
    one_line(daemon(home, "--listen", "127.0.0.1:0"), "protected by a passphrase", "--passphrase-file")


@pytest.mark.parametrize("text, words", [
    ("listen = \n", ("is not valid TOML",)),
    ("colour = 'blue'\n", ("unknown setting(s) colour",)),
    ("listen = 7447\n", ("listen has the wrong type",)),
    (b"\xff\xfe".decode("latin-1"), ("is not UTF-8 text",)),
])
def test_an_unreadable_config(tmp_path: Path, text: str, words: tuple[str, ...]) -> None:
    home = home_of(tmp_path)
    (home / "config.toml").write_bytes(text.encode("latin-1"))
    one_line(daemon(home, "--listen", "127.0.0.1:0"), *words)


def test_a_data_dir_that_cannot_be_written(tmp_path: Path) -> None:
    home = home_of(tmp_path)
    (home / "daemon.lock").mkdir()          # (the tests run as root, who may write anywhere: break it otherwise)
    one_line(daemon(home, "--listen", "127.0.0.1:0"), f"cannot use the data directory {home}", "daemon.lock")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    one_line(daemon(not_a_dir, "--listen", "127.0.0.1:0"), "is a file", "--home")


def test_a_socket_path_too_long(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.parent.mkdir(mode=0o700)
    home = home_of(deep.parent, "y" * 60)
    one_line(daemon(home, "--listen", "127.0.0.1:0"), "control socket path", "shorter data directory")
    assert not (home / "store.sqlite3").exists()        # refused before anything was made


@pytest.mark.parametrize("name, content, words", [
    ("store.sqlite3", b"not a database, not at all" * 100, ("envelope store", "Move it away")),
    ("circles.state", b"garbage", ("circles.state", "damaged")),
    ("identity.key", b"\x93garbage", ("identity file", "damaged")),
])
def test_a_damaged_file(tmp_path: Path, name: str, content: bytes, words: tuple[str, ...]) -> None:
    home = home_of(tmp_path)
    (home / name).write_bytes(content)
    (home / name).chmod(0o600)
    one_line(daemon(home, "--listen", "127.0.0.1:0"), *words)


def test_a_store_another_program_holds_locked(tmp_path: Path) -> None:
    home = home_of(tmp_path)
    db = sqlite3.connect(home / "store.sqlite3", isolation_level=None)
    try:
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        one_line(daemon(home, "--listen", "127.0.0.1:0"), "locked by another program", "close that program")
    finally:
        db.close()


def test_an_unexpected_error_before_start_is_one_line_and_after_start_keeps_its_traceback() -> None:
    bug = RuntimeError("boom")
    group = BaseExceptionGroup("nursery", [ExceptionGroup("inner", [bug])])
    failure = command.startup_failure(group, started=False)
    assert isinstance(failure, StartupError) and failure.__cause__ is bug
    assert "RuntimeError: boom" in str(failure) and "--debug" in str(failure)
    assert command.startup_failure(group, started=True) is group
    known = StartupError("port 1 on 127.0.0.1 is in use")
    assert command.startup_failure(ExceptionGroup("x", [bug, known]), started=True) is known
    interrupt = KeyboardInterrupt()
    assert command.startup_failure(BaseExceptionGroup("x", [interrupt]), started=False) is interrupt
