"""The rendered unit files: systemd-analyze accepts them, no comment sits after a value, the hardening
is all there, and ``systemd-analyze security`` scores them as well hardened. Budget: under 1 s."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from meshcare.service import units

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt install systemd)")


def _settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.parametrize("render", [units.template_unit, units.system_unit])
def test_hardening_and_notify_settings(render):
    s = _settings(render(units.UnitOptions(memory_high="99M", memory_max="123M", watchdog_s=40)))
    expect = {"Type": "notify", "WatchdogSec": "40", "Restart": "on-failure", "StartLimitBurst": "5",
              "ProtectSystem": "strict", "PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
              "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK", "UMask": "0077",
              "SystemCallFilter": "@system-service", "MemoryDenyWriteExecute": "yes", "MemoryHigh": "99M",
              "MemoryMax": "123M", "ExecStart": "/opt/meshcare/venv/bin/meshcare run"}
    for key, value in expect.items():
        assert s.get(key) == [value], key
    assert "DynamicUser" not in s


def test_template_runs_as_the_owner_with_their_data_dir_writable():
    s = _settings(units.template_unit())
    assert s["User"] == ["%i"] and s["ProtectHome"] == ["read-only"]
    assert s["Environment"] == ["MESHCARE_HOME=/home/%i/.local/share/meshcare"]
    assert s["ReadWritePaths"] == ["-/home/%i/.local/share/meshcare"]
    assert not any("%h" in v for values in s.values() for v in values)   # PID 1 does not resolve it


def test_system_unit_has_its_own_user_and_state_dir():
    s = _settings(units.system_unit())
    assert s["User"] == ["meshcare"] and s["StateDirectory"] == ["meshcare"]
    assert s["Environment"] == ["MESHCARE_HOME=%S/meshcare"] and s["ProtectHome"] == ["yes"]


@pytest.mark.parametrize("render", [units.template_unit, units.system_unit])
def test_comments_stand_on_their_own_lines(render):
    for line in render().splitlines():
        assert line.startswith("#") or "#" not in line, line


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def fake_venv(tmp_path: Path) -> units.UnitOptions:
    """systemd-analyze verify checks that ExecStart's program exists and is executable."""
    exe = tmp_path / "venv/bin/meshcare"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return units.UnitOptions(venv=PurePosixPath(tmp_path / "venv"))


def _verify(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ANALYZE), "verify", *map(str, paths)], capture_output=True, text=True, timeout=60,
                          cwd=paths[0].parent)


@needs_analyze
def test_systemd_analyze_verify_accepts_both_units(tmp_path, fake_venv):
    system = _write(tmp_path, "meshcare.service", units.system_unit(fake_venv))
    instance = _write(tmp_path, "meshcare@ana.service", units.template_unit(fake_venv))
    out = _verify(system, instance)
    assert out.returncode == 0 and out.stderr == "", out.stderr


@needs_analyze
def test_systemd_analyze_verify_loads_an_instance_with_its_home_dropin(tmp_path, fake_venv):
    """The template as systemd finds it (SYSTEMD_UNIT_PATH), instantiated for ana, with the drop-in the
    installer writes for an owner whose home is not /home/ana."""
    _write(tmp_path, units.TEMPLATE_UNIT, units.template_unit(fake_venv))
    dropin = tmp_path / "meshcare@ana.service.d" / units.DROPIN_NAME
    dropin.parent.mkdir()
    dropin.write_text(units.home_dropin(PurePosixPath("/srv/ana/.local/share/meshcare")) + "\nNoSuchKey=1\n")
    env = {"SYSTEMD_UNIT_PATH": f"{tmp_path}:", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(ANALYZE), "verify", "meshcare@ana.service"], capture_output=True, text=True,
                         timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 0 and "NoSuchKey" in out.stderr     # the drop-in was read
    dropin.write_text(units.home_dropin(PurePosixPath("/srv/ana/.local/share/meshcare")))
    out = subprocess.run([str(ANALYZE), "verify", "meshcare@ana.service"], capture_output=True, text=True,
                         timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 0 and out.stderr == "", out.stderr


@needs_analyze
def test_systemd_analyze_verify_would_catch_a_bad_line(tmp_path, fake_venv):
    """The check above is worth something: a comment after a value, an unknown key, are reported."""
    bad = units.system_unit(fake_venv).replace("Type=notify", "Type=notify  # ready when it says").replace(
        "UMask=0077", "UMask=0077\nProtectEverything=yes")
    out = _verify(_write(tmp_path, "meshcare.service", bad))
    assert "Failed to parse service type" in out.stderr and "ProtectEverything" in out.stderr


@needs_analyze
@pytest.mark.parametrize("name, render", [("meshcare@ana.service", units.template_unit),
                                          ("meshcare.service", units.system_unit)])
def test_systemd_analyze_security_scores_it_well_hardened(tmp_path, fake_venv, name, render):
    out = subprocess.run([str(ANALYZE), "security", "--offline=yes", "--no-pager",
                          str(_write(tmp_path, name, render(fake_venv)))],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", out.stdout + out.stderr)
    if found is None and "offline" in out.stderr:
        pytest.skip(f"this systemd-analyze cannot score a unit offline: {out.stderr.strip()}")
    assert found is not None, out.stdout + out.stderr
    assert float(found.group(1)) <= 2.5, out.stdout        # 0 is best, 10 worst; "OK" is below 4.9


def test_remove_ipc_only_for_the_relays_own_user():
    """RemoveIPC= removes every IPC object of the unit's user when it stops: for the template that user is
    a person, whose other programs' shared memory must survive a restart of their node."""
    assert "RemoveIPC" not in _settings(units.template_unit())
    assert _settings(units.system_unit())["RemoveIPC"] == ["yes"]
