"""``meshcare@USER.service`` under a real systemd: Debian's systemd 252 booted as PID 1 of a container
(``systemd-nspawn --boot``) whose base is this machine's own root, read-only, under a tmpfs overlay, with a
private network holding only ``lo``. Inside it the real installer (``meshcare service install --user ana
--no-venv``, as root, where systemd answers) writes the unit and runs ``enable --now``; then the unit must reach
``active (running)`` under all its hardening (Type=notify and the watchdog, ProtectSystem=strict,
ProtectHome=read-only, MemoryDenyWriteExecute, SystemCallFilter), answer ``meshcare status`` run as ana over the
0600 socket, be restarted after ``kill -9``, stop cleanly, and go with ``meshcare service uninstall``.

The venv is made on the host before the boot (pip needs the registry; the container has no network), at the
path the unit runs it from, /opt/meshcare/venv, inside a private mount namespace (``unshare -m``) where a temp
directory hides the host's /opt, so the host's /opt is never written; the container gets that directory as
its /opt (``--bind``, writable: uninstall removes the venv).

Skips with the reason when not root, without systemd-nspawn/unshare/nsenter (``apt-get install
systemd-container``: tests/system-deps.sh), without Debian's python3 packages, or when the container does not
boot here. Budget: about 25 s (the venv 12 s with a warm pip cache, boot 2 s, the restart after ``kill -9``
RestartSec=5 s).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshcare.service import units

from .helpers import wait_real
from .test_debian_venv import ROOT, debian_packages  # noqa: F401  (a fixture, used by name)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
USER = "ana"
UNIT = f"meshcare@{USER}.service"
VENV = str(units.DEFAULT_VENV)
MESHCARE = f"{VENV}/bin/meshcare"
DATA = str(units.user_data_dir(USER))
#: What a command in the container starts with: no variable of this process (PYTHONPATH, NOTIFY_SOCKET...).
BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def _tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("booting systemd in a container (systemd-nspawn) needs root")
    missing = [t for t in ("systemd-nspawn", "unshare", "nsenter") if shutil.which(t) is None]
    if missing and shutil.which("apt-get") is not None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "systemd-container"], capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=240)
        missing = [t for t in ("systemd-nspawn", "unshare", "nsenter") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{' '.join(missing)} missing (apt-get install systemd-container util-linux: "
                    "sudo sh tests/system-deps.sh)")
    if not Path("/usr/lib/systemd/systemd").exists():
        pytest.skip("no /usr/lib/systemd/systemd to boot in the container")


def _build_venv(opt: Path) -> None:
    """python3 -m venv --system-site-packages /opt/meshcare/venv and pip install of this checkout (copied, so
    the build leaves nothing here), in a mount namespace where /opt is ``opt``."""
    src = opt.parent / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info",
                                                             "build", ".mypy_cache", ".hypothesis", "tests"))
    opt.mkdir(mode=0o755)
    script = (f"set -e; mount --make-rprivate /; mount --bind {opt} /opt; "
              f"/usr/bin/python3 -m venv --system-site-packages {VENV}; "
              f"{VENV}/bin/python -m pip install --quiet {src}")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env,
                         timeout=240)
    shutil.rmtree(src)
    if out.returncode != 0:
        pytest.fail(f"building the venv failed: {out.stderr[-2000:]}")


class Container:
    """A booted container: ``run`` is a command in it as root (through ``nsenter`` into its PID 1)."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log
        self.pid1 = 0

    def find_init(self) -> bool:
        """The container's PID 1: the ``systemd`` among the nspawn process's children or grandchildren
        (``unshare`` and ``sh`` exec it, so ``proc`` is nspawn itself)."""
        kids = _children(self.proc.pid)
        for pid in kids + [g for k in kids for g in _children(k)]:
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except FileNotFoundError:
                continue
            if comm == "systemd":
                self.pid1 = pid
                return True
        return False

    def run(self, *argv: str, user: str | None = None, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        prefix = ["nsenter", "-t", str(self.pid1), "-a", "env", "-i", *(f"{k}={v}" for k, v in
                                                                        {**BASE_ENV, **(env or {})}.items())]
        if user is not None:
            prefix += ["runuser", "-u", user, "--"]
        out = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120)
        if check and out.returncode != 0:
            journal = subprocess.run(["nsenter", "-t", str(self.pid1), "-a", "journalctl", "-u", UNIT,
                                      "--no-pager", "-n", "40"], capture_output=True, text=True, timeout=30)
            pytest.fail(f"{' '.join(argv)} exited {out.returncode}: {out.stdout}{out.stderr}\n"
                        f"journal of {UNIT}:\n{journal.stdout}")
        return out

    def show(self, prop: str, unit: str = UNIT) -> str:
        return self.run("systemctl", "show", "-p", prop, "--value", unit).stdout.strip()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture(scope="module")
def container(debian_packages: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:  # noqa: F811
    _tools()
    work = tmp_path_factory.mktemp("nspawn")
    opt = work / "opt"
    _build_venv(opt)
    base = work / "base"
    base.mkdir()
    log = work / "boot.log"
    # the host's / bound read-only in a private mount namespace (gone with it), booted with a tmpfs over it;
    # --register=no/--link-journal=no: the host has no systemd-machined or journald to tell
    script = (f"set -e; mount --make-rprivate /; mount --bind / {base}; mount -o remount,bind,ro {base}; "
              f"exec systemd-nspawn --quiet --directory={base} --volatile=overlay --private-network "
              f"--register=no --link-journal=no --keep-unit --machine=meshcare-test "
              f"--bind={opt}:/opt --boot systemd.mask=postgresql.service")
    with open(log, "wb") as out:
        proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    box = Container(proc, log)
    try:
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline and proc.poll() is None:
            if box.pid1 or box.find_init():
                state = box.run("systemctl", "is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    break
            time.sleep(0.5)
        if state not in ("running", "degraded"):
            pytest.skip(f"systemd did not boot in the container here (state {state!r}): "
                        f"{log.read_text(errors='replace')[-1500:]}")
        yield box
    finally:
        _stop(proc)
        shutil.rmtree(opt, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to nspawn asks the container's systemd to power off; SIGKILL to the lot if it takes too long."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _status(box: Container) -> Any:
    out = box.run(MESHCARE, "status", "--json", user=USER, env={"HOME": f"/home/{USER}"})
    return json.loads(out.stdout)


def test_the_user_unit_runs_hardened_under_systemd(container: Container) -> None:
    box = container
    box.run("useradd", "--create-home", "--shell", "/bin/bash", USER)
    box.run(MESHCARE, "init", "--name", USER, "--json", user=USER, env={"HOME": f"/home/{USER}"})
    installed = json.loads(box.run(MESHCARE, "service", "install", "--user", USER, "--no-venv", "--json").stdout)
    assert installed["unit"] == UNIT

    # enable --now waited for READY=1 (Type=notify): it is up, with the daemon's STATUS= line
    assert box.run("systemctl", "is-active", UNIT).stdout.strip() == "active"
    assert box.show("SubState") == "running"
    assert box.show("StatusText"), "the daemon sent no STATUS= line"
    assert box.show("User") == USER
    # the watchdog is armed (its 60 s are not waited out here; tests/test_service_notify.py has the pings)
    assert box.show("WatchdogUSec") == "1min"

    # ana's own `meshcare status` answers over the 0600 socket in her data dir
    status = _status(box)
    assert status, "meshcare status said nothing"
    sock = box.run("find", DATA, "-type", "s", "-printf", "%m %u %p\n").stdout.split()
    assert sock[:2] == ["600", USER], sock

    # the hardening, as the kernel sees it in the daemon's process
    pid = box.show("MainPID")
    fields = dict(line.split(":", 1) for line in box.run("cat", f"/proc/{pid}/status").stdout.splitlines())
    assert fields["NoNewPrivs"].strip() == "1"
    assert int(fields["CapEff"].strip(), 16) == 0
    assert fields["Seccomp"].strip() == "2"
    # in the daemon's mount namespace, as ana: the data dir is writable, her home and the system are not
    uid = box.run("id", "-u", USER).stdout.strip()
    inside = ("nsenter", "-t", pid, "-m", "-S", uid, "-G", uid, "sh", "-c")
    assert box.run(*inside, f"touch {DATA}/probe && rm {DATA}/probe", check=False).returncode == 0
    for outside in (f"/home/{USER}/probe", f"{VENV}/probe", "/var/tmp/../probe"):
        out = box.run(*inside, f"touch {outside}", check=False)
        assert out.returncode != 0 and "Read-only file system" in out.stderr, (outside, out.stderr)

    # kill -9: Restart=on-failure starts it again (after RestartSec=5)
    box.run("kill", "-9", pid)
    wait_real(lambda: box.show("MainPID") not in ("0", pid) and box.show("ActiveState") == "active"
              and box.show("SubState") == "running", "systemd to restart the killed daemon", timeout=40)
    assert box.show("NRestarts") == "1"
    _status(box)

    # stop: SIGTERM, and the daemon ends cleanly (exit 0, so Result=success)
    box.run("systemctl", "stop", UNIT)
    assert box.run("systemctl", "is-active", UNIT, check=False).stdout.strip() == "inactive"
    assert box.show("Result") == "success"
    assert box.show("ExecMainStatus") == "0"


def test_the_relay_unit_runs_under_systemd(container: Container) -> None:
    """``meshcare.service``: the installer makes the ``meshcare`` system user, systemd the data dir."""
    box = container
    installed = json.loads(box.run(MESHCARE, "service", "install", "--system", "--no-venv", "--json").stdout)
    assert installed["unit"] == units.SYSTEM_UNIT
    assert box.run("systemctl", "is-active", units.SYSTEM_UNIT).stdout.strip() == "active"
    assert box.show("StatusText", units.SYSTEM_UNIT)
    assert box.run("stat", "-c", "%a %U", "/var/lib/meshcare").stdout.split() == ["700", units.SYSTEM_USER]
    out = box.run(MESHCARE, "--home", "/var/lib/meshcare", "status", "--json", user=units.SYSTEM_USER)
    assert json.loads(out.stdout)
    pid = box.show("MainPID", units.SYSTEM_UNIT)
    fields = dict(line.split(":", 1) for line in box.run("cat", f"/proc/{pid}/status").stdout.splitlines())
    assert (fields["NoNewPrivs"].strip(), int(fields["CapEff"], 16), fields["Seccomp"].strip()) == ("1", 0, "2")


def test_uninstall_removes_them(container: Container) -> None:
    """ana's service goes first and the venv stays (the relay still runs from it); then every service, and
    the venv with them. Runs after the two tests above, in the same container."""
    box = container
    box.run(MESHCARE, "service", "uninstall", "--user", USER, "--json")
    assert box.run("test", "-e", f"/etc/systemd/system/{units.TEMPLATE_UNIT}", check=False).returncode == 1
    assert box.show("LoadState") == "not-found"
    assert box.run("test", "-x", MESHCARE, check=False).returncode == 0
    box.run(MESHCARE, "service", "uninstall", "--json")
    assert box.show("LoadState", units.SYSTEM_UNIT) == "not-found"
    assert box.run("systemctl", "is-active", units.SYSTEM_UNIT, check=False).stdout.strip() == "inactive"
    assert box.run("test", "-e", VENV, check=False).returncode == 1
