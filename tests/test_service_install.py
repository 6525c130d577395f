"""``meshcare service install|status|uninstall``: the plans (pure), and the CLI into a staging root (--root):
install then uninstall leaves the root as it was, --dry-run writes nothing, the refusals say why.
Budget: about 4 s (a dozen CLI runs)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from meshcare.errors import BadInput
from meshcare.service import plan as p
from meshcare.service import units

PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "ana:x:1000:1000:Ana:/home/ana:/bin/bash\n"
          "ben:x:1001:1001:Ben:/srv/ben:/bin/bash\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
ANA = p.Account("ana", 1000, 1000, "/home/ana")


def _tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` with what it is (file text, link target, or a directory)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            found[rel] = ("-> " + os.readlink(path) if path.is_symlink() else "dir" if path.is_dir()
                          else path.read_text())
    return found


@pytest.fixture
def stage(tmp_path: Path) -> Path:
    root = tmp_path / "stage"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(PASSWD)
    return root


def cli(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``meshcare service ARGS`` in this process (a fresh interpreter per call costs a second each)."""
    from meshcare.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["service", *args])
            except SystemExit as exc:       # argparse's usage errors
                code = int(exc.code or 0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    done = subprocess.CompletedProcess(["meshcare", "service", *args], code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"meshcare service {args}: {code} {done.stderr}")
    return done


# --- plans (pure) -----------------------------------------------------------------------------------

def test_install_on_root_makes_venv_unit_datadir_link_and_starts_with_systemd():
    machine = p.Machine(euid=0, systemd=True, account=ANA)
    plan = p.plan_install(p.Request(user="ana", source="/src/meshcare"), machine)
    runs = [a.argv for a in plan.actions if isinstance(a, (p.Run, p.PipInstall))]
    assert runs == [("/usr/bin/python3", "-m", "venv", "--system-site-packages", "/opt/meshcare/venv"),
                    ("/opt/meshcare/venv/bin/python", "-m", "pip", "install", "--quiet", "--upgrade", "/src/meshcare"),
                    ("systemctl", "daemon-reload"), ("systemctl", "try-restart", "meshcare@ana.service"),
                    ("systemctl", "enable", "--now", "meshcare@ana.service")]
    assert p.MakeDataDir(PurePosixPath("/home/ana/.local/share/meshcare"), PurePosixPath("/home/ana"), 1000,
                         1000) in plan.actions
    assert p.Symlink(p.COMMAND_LINK, PurePosixPath("/opt/meshcare/venv/bin/meshcare")) in plan.actions
    assert plan.later == ()


def test_without_systemd_nothing_is_started_and_it_says_so():
    machine = p.Machine(euid=0, systemd=False, pid1="tini", account=ANA, venv_exists=True)
    plan = p.plan_install(p.Request(user="ana", source="meshcare==0.1.0"), machine)
    assert not any(isinstance(a, p.Run) and a.argv[0] == "systemctl" for a in plan.actions)
    assert not any(isinstance(a, p.Run) and "venv" in a.argv for a in plan.actions)    # it exists: upgraded only
    assert plan.later[-1] == ("systemctl", "enable", "--now", "meshcare@ana.service")
    assert any("PID 1 is tini" in n for n in plan.notes)


def test_system_mode_creates_the_user_once():
    plan = p.plan_install(p.Request(system=True, source="/src"), p.Machine(euid=0))
    assert plan.actions[0] == p.Run(("useradd", "--system", "--user-group", "--home-dir", "/var/lib/meshcare",
                                     "--no-create-home", "--shell", "/usr/sbin/nologin", "meshcare"))
    again = p.plan_install(p.Request(system=True, source="/src"), p.Machine(euid=0, system_user_exists=True))
    assert not any(isinstance(a, p.Run) and a.argv[0] == "useradd" for a in again.actions)


def test_a_home_outside_home_gets_a_dropin():
    ben = p.Account("ben", 1001, 1001, "/srv/ben")
    plan = p.plan_install(p.Request(user="ben", source="/src"), p.Machine(euid=0, account=ben))
    dropin = next(a for a in plan.actions if isinstance(a, p.WriteFile) and a.path.name == units.DROPIN_NAME)
    assert "MESHCARE_HOME=/srv/ben/.local/share/meshcare" in dropin.text
    assert plan.data_dir == PurePosixPath("/srv/ben/.local/share/meshcare")


@pytest.mark.parametrize("request_, machine, words", [
    (p.Request(user="ana", source="/s"), p.Machine(euid=1000, account=ANA), "run it as root"),
    (p.Request(user="zed", source="/s"), p.Machine(euid=0), "there is no user 'zed'"),
    (p.Request(user="root", source="/s"), p.Machine(euid=0, account=p.Account("root", 0, 0, "/root")), "not run as root"),
    (p.Request(user="nobody", source="/s"), p.Machine(euid=0, account=p.Account("nobody", 65534, 65534, "/nonexistent")),
     "no home directory"),
    (p.Request(user="ana", source=None), p.Machine(euid=0, account=ANA), "cannot tell what to install"),
])
def test_refusals_say_why(request_, machine, words):
    with pytest.raises(BadInput, match=words):
        p.plan_install(request_, machine)


def test_uninstall_of_one_owner_keeps_what_another_uses():
    template = units.UNIT_DIR / units.TEMPLATE_UNIT
    machine = p.Machine(euid=0, systemd=True, account=ANA, wanted=("meshcare@ana.service", "meshcare@ben.service"),
                        existing=frozenset({template, units.DEFAULT_VENV}),
                        link_target="/opt/meshcare/venv/bin/meshcare")
    plan = p.plan_uninstall(p.Request(user="ana"), machine)
    assert plan.actions[0] == p.Run(("systemctl", "disable", "--now", "meshcare@ana.service"))
    assert not any(isinstance(a, p.Remove) for a in plan.actions)
    assert any("meshcare@ben.service still uses them" in n for n in plan.notes)
    assert any("kept ana's node data in /home/ana/.local/share/meshcare" in n for n in plan.notes)


# --- the CLI into a staging root -------------------------------------------------------------------

def test_install_then_uninstall_leaves_the_root_as_it_was(stage):
    before = _tree(stage)
    out = json.loads(cli("install", "--user", "ana", "--root", str(stage), "--json").stdout)
    assert out["done"] and out["unit"] == "meshcare@ana.service" and out["data_dir"] == "/home/ana/.local/share/meshcare"
    assert out["commands_to_run"] == [["systemctl", "daemon-reload"], ["systemctl", "try-restart", "meshcare@ana.service"],
                                      ["systemctl", "enable", "--now", "meshcare@ana.service"]]
    unit = stage / "etc/systemd/system/meshcare@.service"
    assert unit.read_text() == units.template_unit()
    assert os.readlink(stage / "usr/local/bin/meshcare") == "/opt/meshcare/venv/bin/meshcare"
    assert not (stage / "home").exists() and not (stage / "opt").exists()     # no data dir, no venv staged
    status = json.loads(cli("status", "--user", "ana", "--root", str(stage), "--json").stdout)
    assert status["units"][0]["unit"] == "meshcare@ana.service" and status["units"][0]["installed"]
    assert status["units"][0]["enabled"] is False and status["units"][0]["active"] is None
    out = json.loads(cli("uninstall", "--user", "ana", "--root", str(stage), "--json").stdout)
    assert out["done"] and any("kept ana's node data" in n for n in out["notes"])
    assert _tree(stage) == before


def test_system_install_in_a_staging_root_creates_no_user(stage):
    before = _tree(stage)
    out = cli("install", "--system", "--root", str(stage))
    assert "create the system user first: useradd --system" in out.stdout
    assert (stage / "etc/passwd").read_text() == PASSWD
    assert (stage / "etc/systemd/system/meshcare.service").read_text() == units.system_unit()
    cli("uninstall", "--system", "--root", str(stage))
    assert _tree(stage) == before


def test_an_owner_outside_home_gets_a_dropin_and_uninstall_removes_it(stage):
    before = _tree(stage)
    cli("install", "--user", "ben", "--root", str(stage))
    dropin = stage / "etc/systemd/system/meshcare@ben.service.d" / units.DROPIN_NAME
    assert "MESHCARE_HOME=/srv/ben/.local/share/meshcare" in dropin.read_text()
    cli("uninstall", "--root", str(stage))               # neither flag: everything
    assert _tree(stage) == before


def test_dry_run_writes_nothing(stage):
    before = _tree(stage)
    out = cli("install", "--user", "ana", "--root", str(stage), "--dry-run")
    assert "Would install meshcare@ana.service" in out.stdout and "write /etc/systemd/system/meshcare@.service" in out.stdout
    data = json.loads(cli("install", "--system", "--root", str(stage), "--dry-run", "--json").stdout)
    assert data["done"] is False and data["dry_run"] is True
    assert {"action": "write", "path": "/etc/systemd/system/meshcare.service", "mode": "0644"} in data["actions"]
    assert _tree(stage) == before


def test_dry_run_on_this_machine_writes_nothing():
    """On / itself: the whole plan printed, nothing written (and no root rights needed to see it)."""
    user = next((line.split(":")[0] for line in Path("/etc/passwd").read_text().splitlines()
                 if line.count(":") == 6 and line.split(":")[5].startswith("/home/")
                 and int(line.split(":")[2]) >= 1000), None)
    if user is None:
        pytest.skip("no user with a home in /home on this machine")
    watched = [Path("/etc/systemd/system/meshcare@.service"), Path("/opt/meshcare"), Path("/usr/local/bin/meshcare"),
               Path(f"/home/{user}/.local/share/meshcare")]
    before = [w.exists() for w in watched]
    data = json.loads(cli("install", "--user", user, "--dry-run", "--json").stdout)
    assert data["root"] == "/" and data["done"] is False
    kinds = [a["action"] for a in data["actions"]]
    assert "write" in kinds and "mkdir" in kinds and "run" in kinds
    assert [w.exists() for w in watched] == before


@pytest.mark.parametrize("args, code, words", [
    (("install", "--user", "ana", "--system"), 2, "not allowed with"),
    (("install",), 2, "say whose node this is"),
    (("install", "--user", "zed"), 1, "there is no user 'zed'"),
    (("install", "--user", "nobody"), 1, "no home directory"),
    (("install", "--user", "ana", "--memory-max", "lots"), 2, "not a memory size"),
])
def test_cli_refusals(stage, args, code, words):
    out = cli(*args, "--root", str(stage), check=False, env={"SUDO_USER": ""})
    assert out.returncode == code and words in out.stderr, out.stderr


def test_not_root_on_this_machine_is_refused():
    if os.geteuid() == 0:
        machine = p.Machine(euid=1000, account=ANA)
        with pytest.raises(BadInput, match="run it as root"):
            p.plan_install(p.Request(user="ana", source="/s"), machine)
    else:
        out = cli("install", "--user", os.environ.get("USER", "nobody"), check=False)
        assert out.returncode == 1 and "run it as root" in out.stderr


def test_sudo_user_is_the_default_owner(stage):
    out = json.loads(cli("install", "--root", str(stage), "--dry-run", "--json", env={"SUDO_USER": "ana"}).stdout)
    assert out["unit"] == "meshcare@ana.service"


def test_status_without_systemd_says_it_cannot_know(stage):
    out = cli("status", "--system", "--root", str(stage))
    assert "cannot be known here" in out.stdout and "meshcare.service: not installed" in out.stdout


def test_the_docs_name_every_service_command_and_flag():
    """docs/cli.md has a section per command; docs/raspberry-pi.md's `meshcare service` and `make install`
    lines use only flags the parser knows."""
    import re
    import shlex

    from meshcare.cli import build_parser

    docs = Path(__file__).resolve().parents[1] / "docs"
    cli_md = (docs / "cli.md").read_text()
    for command in ("install", "status", "uninstall"):
        assert f"## `meshcare service {command} [--user NAME | --system] [--root DIR]" in cli_md
    pi = (docs / "raspberry-pi.md").read_text()
    parser = build_parser()
    lines = re.findall(r"INSTALL_ARGS=('[^']*'|[^\s`]+)", pi)
    assert lines, "docs/raspberry-pi.md shows make install with INSTALL_ARGS"
    for args in lines:
        parser.parse_args(["service", "install", *shlex.split(args.strip("'") if args.startswith("'") else args)])


def test_uninstall_of_everything_stops_a_relay_that_is_not_enabled():
    machine = p.Machine(euid=0, systemd=True, existing=frozenset({units.UNIT_DIR / units.SYSTEM_UNIT}))
    plan = p.plan_uninstall(p.Request(), machine)
    assert p.Run(("systemctl", "disable", "--now", "meshcare.service")) in plan.actions
    assert p.Remove(units.UNIT_DIR / units.SYSTEM_UNIT) in plan.actions
    assert any("kept the relay's data in /var/lib/meshcare" in n for n in plan.notes)
