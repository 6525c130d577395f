"""The command line: init, id, --json, help and error paths (run as a real subprocess where it matters)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys

import pytest

from meshcare import cli

from .helpers import wait_real

MESHCARE = [sys.executable, "-m", "meshcare"]


def run(*args, env=None, input=None):
    return subprocess.run([*MESHCARE, *args], capture_output=True, text=True, env=env, timeout=60, input=input)


def test_init_then_id_json(home, capsys):
    assert cli.main(["init", "--name", "Ana", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert set(created) >= {"name", "node_id", "fingerprint", "passphrase_protected", "home"}
    assert stat.S_IMODE((home / "identity.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert cli.main(["id", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["node_id"] == created["node_id"] and shown["fingerprint"] == created["fingerprint"]
    assert len(bytes.fromhex(shown["node_id"])) == 32


def test_init_refuses_overwrite(home, capsys):
    assert cli.main(["init", "--name", "Ana"]) == 0
    before = (home / "identity.key").read_bytes()
    assert cli.main(["init", "--name", "Bo"]) == 1
    assert "will not overwrite" in capsys.readouterr().err
    assert (home / "identity.key").read_bytes() == before


def test_init_with_passphrase_file(home, tmp_path, capsys):
    pf = tmp_path / "pass"
    pf.write_text("s3cret phrase\n")
    pf.chmod(0o600)  # a passphrase file others can read is refused (issue 9 item 14)
    assert cli.main(["init", "--name", "Ana", "--passphrase-file", str(pf), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passphrase_protected"] is True
    assert b"s3cret" not in (home / "identity.key").read_bytes()


def test_empty_passphrase_file_is_bad_input(home, tmp_path, capsys):
    pf = tmp_path / "pass"
    pf.write_text("\n")
    pf.chmod(0o600)
    assert cli.main(["init", "--name", "Ana", "--passphrase-file", str(pf)]) == 1
    assert "empty" in capsys.readouterr().err
    assert not (home / "identity.key").exists()


def test_id_without_identity_says_what_to_do(home, capsys):
    assert cli.main(["id"]) == 1
    assert "meshcare init" in capsys.readouterr().err


def test_help_is_complete():
    out = run("--help")
    assert out.returncode == 0 and "not an emergency service" in out.stdout
    for command in ("init", "id", "run"):
        assert command in out.stdout
        sub = run(command, "--help")
        assert sub.returncode == 0 and "usage: meshcare " + command in sub.stdout


def test_bad_usage_exits_2(home):
    assert run("init").returncode == 2          # --name missing
    assert run("frobnicate").returncode == 2


def test_meshcare_alone_without_identity_or_terminal_says_how(home):
    """`meshcare` alone is the launcher (setup, node in the background, terminal UI); with no identity and
    no terminal to ask in, it says what to run instead and starts nothing."""
    out = run()
    assert out.returncode == 1 and "meshcare init --name" in out.stderr and "Traceback" not in out.stderr
    assert not (home / "daemon.lock").exists()


def start_run(env):
    """`meshcare run` on loopback only (never mDNS on this machine's interfaces); returns the process."""
    proc = subprocess.Popen([*MESHCARE, "run", "--no-discovery", "--listen", "127.0.0.1:0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wait_real(lambda: proc.poll() is not None or run("status", env=env).returncode == 0,
              "meshcare run to start the node", timeout=30)
    assert proc.poll() is None, "meshcare run exited instead of starting the node"
    return proc


def test_run_creates_identity_once_and_starts_the_node(home):
    env = {**os.environ, "MESHCARE_HOME": str(home), "USER": "tester"}
    for expect_created in (True, False):
        proc = start_run(env)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert ("Created a new identity for tester" in out) is expect_created


def test_bad_config_is_a_clear_error(home):
    home.mkdir()
    (home / "config.toml").write_text("discovery = 'maybe'")
    out = run("id", env={**os.environ, "MESHCARE_HOME": str(home)})
    assert out.returncode == 1 and "config.toml" in out.stderr and "Traceback" not in out.stderr


def test_emit_escapes_others_text_for_the_terminal_and_json_never_holds_raw_esc(capsys):
    """Issue 9 item 13: whatever reaches a terminal is escaped, even text that never passed
    ``clean`` (an old store, a bug): no title change, no line rewrite, no reordering."""
    import argparse
    hostile = "help\x1b]0;pwned\x07 me\rnow \u202egnp.exe"
    cli.common.emit(argparse.Namespace(json=False), {}, f"call: {hostile}\nsecond line")
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out and "\x07" not in out
    assert out == "call: help\\x1b]0;pwned\\x07 me\\x0dnow \\u202egnp.exe\nsecond line\n"
    cli.common.emit(argparse.Namespace(json=True), {"text": hostile}, "")
    raw = capsys.readouterr().out
    assert "\x1b" not in raw and "\u202e" not in raw and json.loads(raw) == {"text": hostile}
