"""The Raspberry Pi Zero 2 W path, here: a venv made by Debian's python3 with --system-site-packages, so
Debian's python3-nacl 1.5.0, python3-msgpack 1.0.3 and python3-cffi serve and nothing compiles, meshcare
pip-installed into it the way ``meshcare service install`` does it (the same plan), and two daemons from
that venv on 127.0.0.1 forming a circle and passing a call, all through the venv's ``meshcare`` command.

Installs the Debian packages with apt when missing and root (tests/system-deps.sh lists them too); skips
with the reason otherwise. Budget: about 40 s with a warm pip cache (the pip install is most of it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from meshcare.service import actions, plan, units

from .helpers import wait_real

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[1]
DIST = Path("/usr/lib/python3/dist-packages")
DEBIAN = {"python3-nacl": DIST / "nacl/__init__.py", "python3-msgpack": DIST / "msgpack/__init__.py",
          "python3-cffi": DIST / "cffi/__init__.py", "python3-venv": None}
#: The versions Debian 12 (and Raspberry Pi OS Bookworm) ship, which pyproject's lower bounds admit.
EXPECTED = {"pynacl": "1.5.0", "msgpack": "1.0.3"}


def _missing() -> list[str]:
    missing = [pkg for pkg, path in DEBIAN.items() if path is not None and not path.exists()]
    venv_ok = subprocess.run(["/usr/bin/python3", "-c", "import ensurepip, venv"], capture_output=True).returncode == 0 \
        if Path("/usr/bin/python3").exists() else False
    return missing + ([] if venv_ok else ["python3-venv"])


@pytest.fixture(scope="module")
def debian_packages() -> None:
    if not Path("/usr/bin/python3").exists() or not Path("/etc/debian_version").exists():
        pytest.skip("not a Debian-like system with /usr/bin/python3")
    missing = _missing()
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{' '.join(missing)} missing, and installing them needs root and apt-get "
                    "(sudo sh tests/system-deps.sh)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    out = subprocess.run(["apt-get", "install", "-y", "-qq", *missing], capture_output=True, text=True, env=env,
                         timeout=240)
    if out.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env, timeout=240)
        out = subprocess.run(["apt-get", "install", "-y", "-qq", *missing], capture_output=True, text=True,
                             env=env, timeout=240)
    if out.returncode != 0 or _missing():
        pytest.skip(f"could not install {' '.join(missing)} with apt-get: {out.stderr.strip()[-300:]}")


@pytest.fixture(scope="module")
def venv(debian_packages: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv made and filled by the install plan's own commands (venv, pip), under a temp dir."""
    path = tmp_path_factory.mktemp("debian") / "venv"
    request = plan.Request(user="pi", source=str(ROOT), options=units.UnitOptions(venv=PurePosixPath(path)))
    machine = plan.Machine(euid=0, account=plan.Account("pi", 1000, 1000, "/home/pi"))
    runs = [a for a in plan.plan_install(request, machine).actions
            if isinstance(a, (plan.Run, plan.PipInstall)) and a.argv[0] != "systemctl"]
    assert [r.argv[:2] for r in runs] == [("/usr/bin/python3", "-m"), (f"{path}/bin/python", "-m")]
    for run in runs:
        actions.execute(plan.Plan("test", (run,)), Path("/"), lambda _: None)
    return path


def _clean_env() -> dict[str, str]:
    """This process's environment without what would make the venv's python see this checkout."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "MESHCARE_PASSPHRASE_FILE", "NOTIFY_SOCKET", "JOURNAL_STREAM")}


def test_nacl_msgpack_and_cffi_are_debians(venv: Path) -> None:
    code = ("import importlib.metadata as m, json\n"
            "print(json.dumps({n: [m.version(n), str(m.distribution(n).locate_file(''))] "
            "for n in ('pynacl', 'msgpack', 'cffi')}))\n")
    found = json.loads(subprocess.run([str(venv / "bin/python"), "-c", code], capture_output=True, text=True,
                                      check=True, timeout=60, env=_clean_env(), cwd="/").stdout)
    for name, (version, where) in found.items():
        assert Path(where) == DIST, f"{name} {version} came from {where}, not Debian's {DIST}"
        if name in EXPECTED:
            assert version == EXPECTED[name]
    meshcare = subprocess.run([str(venv / "bin/python"), "-c", "import meshcare; print(meshcare.__file__)"],
                              capture_output=True, text=True, check=True, timeout=60, env=_clean_env(),
                              cwd="/").stdout
    assert meshcare.startswith(str(venv))       # the venv's own copy, not this checkout


class _Node:
    def __init__(self, venv: Path, home: Path, name: str) -> None:
        self.exe = str(venv / "bin/meshcare")
        self.env = {**_clean_env(), "MESHCARE_HOME": str(home)}
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None
        self.json("init", "--name", name)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.exe, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def json(self, *args: str) -> Any:
        out = self.run(*args, "--json")
        assert out.returncode == 0, f"meshcare {args}: {out.stderr}"
        return json.loads(out.stdout)

    def start(self, *peers: int) -> None:
        argv = [self.exe, "daemon", "--no-discovery", "--listen", "127.0.0.1:0"]
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home / "daemon.log", "ab"))
        wait_real(lambda: self.run("status").returncode == 0 or self.proc.poll() is not None, "the daemon")
        assert self.proc.poll() is None, (self.home / "daemon.log").read_text()

    @property
    def port(self) -> int:
        return int(self.json("status")["listen"].rsplit(":", 1)[1])


def test_two_daemons_from_the_venv_pass_a_call(venv: Path, tmp_path: Path) -> None:
    ann, bob = _Node(venv, tmp_path / "ann", "ann"), _Node(venv, tmp_path / "bob", "bob")
    try:
        ann.start()
        bob.start(ann.port)
        ann.json("circle", "create", "Elm St")
        bob.json("circle", "join", ann.json("circle", "invite", "Elm St")["token"], "--wait", "20")
        call = ann.json("call", "Elm St", "could someone sit with me tonight?", "--urgency", "today")
        call_id = call["call"]["id"]
        wait_real(lambda: any(c["id"] == call_id for c in bob.json("calls")["calls"]), "the call to reach bob")
        for node in (ann, bob):
            assert node.proc is not None
            node.proc.send_signal(signal.SIGTERM)
            assert node.proc.wait(timeout=20) == 0
            node.proc = None
    finally:
        for node in (ann, bob):
            if node.proc is not None:
                node.proc.kill()
                node.proc.wait(timeout=10)


def test_make_install_runs_on_debians_python_from_the_checkout(debian_packages: None, tmp_path: Path) -> None:
    """``sudo make install`` runs ``/usr/bin/python3 -m meshcare service install`` in the checkout, before
    any venv exists: with Debian's packages only (no trio, platformdirs, textual), that must work."""
    stage = tmp_path / "stage"
    (stage / "etc").mkdir(parents=True)
    (stage / "etc/passwd").write_text("pi:x:1000:1000::/home/pi:/bin/bash\n")
    env = {**_clean_env(), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(["/usr/bin/python3", "-m", "meshcare", "service", "install", "--user", "pi", "--root",
                          str(stage), "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["unit"] == "meshcare@pi.service"
    assert (stage / "etc/systemd/system/meshcare@.service").is_file()
