"""A restored node rejoins its circle and catches up: real daemons on 127.0.0.1, driven through the CLI.

Ann founds a circle with Bob and Cat; Bob calls for support; Ann exports a backup. After the backup the
circle changes under it: Ann removes Cat (a new epoch key, sealed to Ann and Bob only) and calls
herself (her chain moves past what the backup knows). Then Ann's device is lost: her data directory is
deleted, the backup is imported into a fresh one, and a daemon started there with `--peer` to Bob.
She is a member again, reads Bob's call and her own later one (the new epoch key was sealed to her
identity, which is the one restored), and her new call reaches Bob, where nothing was dropped as
equivocation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshcare.client import ControlClient
from meshcare.crypto import keys, keystore
from meshcare.errors import MeshcareError
from tests.helpers import wait_real
from tests.test_cli_circles import meshcare

pytestmark = pytest.mark.timeout(90)


class Daemon:
    """A `meshcare daemon` on 127.0.0.1, asked over its control socket from this process (a CLI process
    per question would cost most of the test's time); only the backup commands run as the CLI."""

    def __init__(self, home: Path, name: str | None) -> None:
        self.home = home
        self.env = {**os.environ, "MESHCARE_HOME": str(home)}
        self.env.pop("MESHCARE_PASSPHRASE_FILE", None)
        self.proc: subprocess.Popen[bytes] | None = None
        if name is not None:
            home.mkdir(mode=0o700)
            keystore.create(home / keystore.FILENAME, keys.Identity.generate(name), None)

    def start(self, *peers: int) -> None:
        argv = [sys.executable, "-m", "meshcare", "daemon", "--no-discovery", "--listen", "127.0.0.1:0"]
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home.parent / f"{self.home.name}.log", "ab"))
        wait_real(self._answers, f"the daemon in {self.home} to start")

    def _answers(self) -> bool:
        try:
            self.ask("status")
        except (MeshcareError, OSError):
            return False
        return True

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def ask(self, op: str, **args: Any) -> dict[str, Any]:
        with ControlClient.connect(self.home / "control.sock") as client:
            return client.request(op, **args)

    @property
    def port(self) -> int:
        return int(str(self.ask("status")["listen"]).rsplit(":", 1)[1])

    def calls(self) -> dict[str, str]:
        return {bytes(c["id"]).hex() if isinstance(c["id"], bytes) else c["id"]: c["text"]
                for c in self.ask("calls.list", all=True)["calls"]}

    def call(self, text: str) -> str:
        made = self.ask("call.create", circle="Elm St", text=text)["call"]["id"]
        return made.hex() if isinstance(made, bytes) else str(made)

    def cli(self, *args: str) -> dict[str, Any]:
        out = meshcare(self.env, *args, "--json")
        assert out.returncode == 0, f"meshcare {' '.join(args)}: {out.returncode} {out.stderr}"
        data: dict[str, Any] = json.loads(out.stdout)
        return data


def members(node: Daemon) -> set[str]:
    """Who ``node`` sees in Elm St (nobody while its welcome has not arrived)."""
    try:
        return {m["name"] for m in node.ask("circle.members", circle="Elm St")["members"]}
    except MeshcareError:
        return set()


def test_a_restored_node_rejoins_and_catches_up(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("a long backup passphrase\n")
    secret.chmod(0o600)
    ann, bob, cat = (Daemon(tmp_path / n, n) for n in ("ann", "bob", "cat"))
    daemons = [ann, bob, cat]
    try:
        ann.start()
        bob.start(ann.port)
        cat.start(ann.port, bob.port)
        ann.ask("circle.create", name="Elm St")
        for node in (bob, cat):
            node.ask("circle.join", token=ann.ask("circle.invite", circle="Elm St")["token"])
        wait_real(lambda: all(len(members(n)) == 3 for n in daemons), "everyone in Elm St to see everyone")
        before = bob.call("Could someone call me tonight?")
        wait_real(lambda: before in ann.calls(), "bob's call to reach ann")
        ann_id = ann.cli("id")["node_id"]

        exported = ann.cli("backup", "export", str(tmp_path / "ann.backup"), "--passphrase-file", str(secret))
        assert exported["source"] == "daemon" and exported["circles"] == ["Elm St"] and exported["node_id"] == ann_id
        assert (tmp_path / "ann.backup").stat().st_mode & 0o777 == 0o600

        # the circle moves on without the backup knowing: a removal (new epoch key) and a post by ann
        ann.ask("circle.remove", circle="Elm St", member="cat")
        after = ann.call("Posted after the backup")
        wait_real(lambda: after in bob.calls(), "ann's later call to reach bob")

        # the device is lost
        ann.stop()
        shutil.rmtree(ann.home)

        new = Daemon(tmp_path / "ann-new", None)
        daemons.append(new)
        restored = new.cli("backup", "import", str(tmp_path / "ann.backup"), "--passphrase-file", str(secret))
        assert restored["node_id"] == ann_id and restored["circles"] == ["Elm St"]
        new.start(bob.port)
        wait_real(lambda: {before, after} <= set(new.calls()), "the restored node to catch up both calls", 30)
        listed = new.ask("circle.list")["circles"]
        assert [(c["name"], c["status"]) for c in listed] == [("Elm St", "member")]
        assert members(new) == {"ann", "bob"}
        assert new.calls()[after] == "Posted after the backup"

        again = new.call("Back on a new device")
        wait_real(lambda: again in bob.calls(), "the restored node's new call to reach bob")
        assert {before, after, again} <= set(bob.calls())        # nothing dropped as equivocation
    finally:
        for node in daemons:
            node.stop()


def run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, Any, str]:
    """``meshcare --home HOME ARGS`` in this process: (exit status, the JSON it printed or None, stderr)."""
    from meshcare.cli import main

    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.startswith("{") else None, err


def test_the_commands_refuse_clearly_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHCARE_PASSPHRASE_FILE", raising=False)
    secret, wrong, short = tmp_path / "pass", tmp_path / "wrong", tmp_path / "short"
    secret.write_text("a long backup passphrase\n")
    wrong.write_text("not the passphrase at all\n")
    short.write_text("abc\n")
    for f in (secret, wrong, short):
        f.chmod(0o600)
    ann = Daemon(tmp_path / "ann", "ann")
    (ann.home / "config.toml").write_text('log_level = "debug"\n')
    backup, new = tmp_path / "b", tmp_path / "new"
    code, out, _ = run(capsys, ann.home, "backup", "export", str(backup), "--passphrase-file", str(secret), "--json")
    assert code == 0 and out["source"] == "data-dir" and out["circles"] == [] and out["settings"] == ["config.toml"]
    assert "message history" in out["not_included"][0] and out["bytes"] == backup.stat().st_size
    code, _, err = run(capsys, ann.home, "backup", "export", str(backup), "--passphrase-file", str(secret))
    assert code == 1 and "already exists" in err and "--force" in err
    code, _, err = run(capsys, ann.home, "backup", "export", str(tmp_path / "c"), "--passphrase-file", str(short))
    assert code == 1 and "shorter than 8" in err and not (tmp_path / "c").exists()
    code, _, err = run(capsys, ann.home, "backup", "export", str(tmp_path / "c"))
    assert code == 1 and "no terminal" in err and not (tmp_path / "c").exists()
    # the data dir holds ann: import refuses and says how to move it aside
    code, _, err = run(capsys, ann.home, "backup", "import", str(backup), "--passphrase-file", str(secret))
    assert code == 1 and "--replace" in err and "mv " in err
    code, _, err = run(capsys, new, "backup", "import", str(backup), "--passphrase-file", str(wrong))
    assert code == 1 and "passphrase does not open" in err and not new.exists()
    data = backup.read_bytes()
    for name, content, words in (("cut", data[:-10], "cut short"), ("junk", b"hello", "not a meshcare backup"),
                                 ("flipped", data[:40] + bytes([data[40] ^ 1]) + data[41:], "damaged")):
        (tmp_path / name).write_bytes(content)
        code, _, err = run(capsys, new, "backup", "import", str(tmp_path / name), "--passphrase-file", str(secret))
        assert code == 1 and words in err and not new.exists(), name
    code, _, err = run(capsys, new, "backup", "import", str(tmp_path / "missing"), "--passphrase-file", str(secret))
    assert code == 1 and "no file" in err
    code, _, err = run(capsys, new, "backup", "import", str(backup))
    assert code == 1 and "--passphrase-file" in err and not new.exists()
    # into a new directory, then --replace over a node keeps the old one aside
    code, out, _ = run(capsys, new, "backup", "import", str(backup), "--passphrase-file", str(secret), "--json")
    assert code == 0 and out["name"] == "ann" and out["moved_aside"] is None and out["circles"] == []
    assert (new / "config.toml").read_text() == 'log_level = "debug"\n'
    code, out, _ = run(capsys, ann.home, "backup", "import", str(backup), "--passphrase-file", str(secret),
                       "--replace", "--json")
    assert code == 0 and out["moved_aside"].startswith(str(ann.home) + ".before-import-")
    assert Path(out["moved_aside"], "identity.key").exists()
    with pytest.raises(SystemExit) as usage:
        run(capsys, new, "backup", "import")
    assert usage.value.code == 2
