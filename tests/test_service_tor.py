"""`meshcare service install --tor` (issue 15): the Tor drop-in (Wants=/After=tor.service,
SupplementaryGroups=debian-tor), written per node, by flag or because the node's config.toml says
`tor = true`, refused where tor is not installed, removed by uninstall and by `--no-tor`; the units'
sandbox lines unchanged. Budget: under 2 s (systemd-analyze verify, when installed, about 0.5 s)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from meshcare.errors import BadInput
from meshcare.service import plan as p
from meshcare.service import units

from .test_service_install import ANA, _tree, cli, stage  # noqa: F401  (stage is a fixture)
from .test_service_units import _settings, fake_venv  # noqa: F401  (fake_venv is a fixture)

ANALYZE = shutil.which("systemd-analyze")
DROPIN = p.tor_dropin_path("meshcare@ana.service")


def test_the_dropin_starts_tor_with_the_node_and_gives_it_tors_group():
    text = units.tor_dropin()
    s = _settings(text)
    assert s["Wants"] == ["tor.service"] and s["After"] == ["tor.service tor@default.service"]
    assert s["SupplementaryGroups"] == ["debian-tor"]
    assert set(s) == {"Wants", "After", "SupplementaryGroups"}       # nothing else new: no flag, no sandbox change
    assert "[Unit]" in text and "[Service]" in text
    for line in text.splitlines():
        assert line.startswith("#") or "#" not in line, line
    assert DROPIN == PurePosixPath("/etc/systemd/system/meshcare@ana.service.d/meshcare-tor.conf")


@pytest.mark.parametrize("render", [units.template_unit, units.system_unit])
def test_the_units_keep_their_sandbox_and_do_not_hide_run_tor(render):
    s = _settings(render())
    assert s["ProtectSystem"] == ["strict"] and "AF_UNIX" in s["RestrictAddressFamilies"][0]
    for key in ("ReadOnlyPaths", "InaccessiblePaths", "TemporaryFileSystem", "BindPaths"):
        assert not any("/run" in v for v in s.get(key, [])), key
    assert "tor.service" not in render() and "debian-tor" not in render()


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt install systemd)")
def test_systemd_analyze_verify_loads_an_instance_with_the_tor_dropin(tmp_path, fake_venv):  # noqa: F811
    (tmp_path / units.TEMPLATE_UNIT).write_text(units.template_unit(fake_venv))
    dropin = tmp_path / "meshcare@ana.service.d" / units.TOR_DROPIN_NAME
    dropin.parent.mkdir()
    dropin.write_text(units.tor_dropin() + "\nNoSuchKey=1\n")
    env = {"SYSTEMD_UNIT_PATH": f"{tmp_path}:", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(ANALYZE), "verify", "meshcare@ana.service"], capture_output=True, text=True,
                         timeout=60, env=env, cwd=tmp_path)
    assert "NoSuchKey" in out.stderr                                     # the drop-in was read
    dropin.write_text(units.tor_dropin())
    out = subprocess.run([str(ANALYZE), "verify", "meshcare@ana.service"], capture_output=True, text=True,
                         timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 0 and "meshcare" not in out.stderr, out.stderr


# --- plans (pure) -----------------------------------------------------------------------------------

def machine(**changes) -> p.Machine:
    base = dict(euid=0, systemd=True, account=ANA, tor_group=True)
    return p.Machine(**{**base, **changes})


def test_tor_flag_writes_the_dropin_and_says_config_toml_must_say_so():
    plan = p.plan_install(p.Request(user="ana", source="/s", tor=True), machine())
    assert p.WriteFile(DROPIN, units.tor_dropin()) in plan.actions and plan.tor
    assert any("add `tor = true` to /home/ana/.local/share/meshcare/config.toml" in n for n in plan.notes)
    assert plan.to_json(PurePosixPath("/"), False)["tor"] is True


def test_config_toml_with_tor_true_is_detected():
    plan = p.plan_install(p.Request(user="ana", source="/s"), machine(tor_in_config=True))
    assert p.WriteFile(DROPIN, units.tor_dropin()) in plan.actions
    assert any("config.toml says tor = true" in n for n in plan.notes)
    assert not any("add `tor = true`" in n for n in plan.notes)
    plan = p.plan_install(p.Request(user="ana", source="/s"), machine())
    assert not any(isinstance(a, p.WriteFile) and a.path == DROPIN for a in plan.actions) and not plan.tor


def test_no_tor_removes_an_earlier_dropin():
    plan = p.plan_install(p.Request(user="ana", source="/s", tor=False),
                          machine(tor_in_config=True, existing=frozenset({DROPIN})))
    assert p.Remove(DROPIN) in plan.actions and p.Remove(DROPIN.parent, if_empty=True) in plan.actions


def test_the_relay_gets_its_own_dropin():
    plan = p.plan_install(p.Request(system=True, source="/s", tor=True), machine(account=None))
    assert p.WriteFile(p.tor_dropin_path("meshcare.service"), units.tor_dropin()) in plan.actions


def test_refused_where_tor_is_not_installed():
    with pytest.raises(BadInput, match=r"tor is not installed here .*sudo apt install tor.*leave out --tor"):
        p.plan_install(p.Request(user="ana", source="/s", tor=True), machine(tor_group=False))
    with pytest.raises(BadInput, match="--no-tor"):
        p.plan_install(p.Request(user="ana", source="/s"), machine(tor_group=False, tor_in_config=True))
    staged = p.plan_install(p.Request(user="ana", tor=True), machine(tor_group=False, root=PurePosixPath("/st")))
    assert any("install tor first" in n for n in staged.notes)


def test_uninstall_removes_the_tor_dropin():
    plan = p.plan_uninstall(p.Request(user="ana"), machine(tor_dropins=("meshcare@ana.service",),
                                                           existing=frozenset({DROPIN})))
    assert p.Remove(DROPIN) in plan.actions and p.Remove(DROPIN.parent, if_empty=True) in plan.actions


# --- the CLI into a staging root ---------------------------------------------------------------------

def test_install_detects_tor_in_config_toml_and_uninstall_leaves_the_root_as_it_was(stage):  # noqa: F811
    (stage / "etc/group").write_text("root:x:0:\ndebian-tor:x:105:\n")
    config = stage / "home/ana/.local/share/meshcare/config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("tor = true\n")
    before = _tree(stage)
    out = json.loads(cli("install", "--user", "ana", "--root", str(stage), "--json").stdout)
    assert out["tor"] is True
    written = stage / "etc/systemd/system/meshcare@ana.service.d/meshcare-tor.conf"
    assert written.read_text() == units.tor_dropin()
    assert (stage / "etc/systemd/system/meshcare@.service").read_text() == units.template_unit()
    cli("install", "--user", "ana", "--root", str(stage), "--no-tor")
    assert not written.exists()
    cli("install", "--user", "ana", "--root", str(stage))
    assert written.exists()
    cli("uninstall", "--user", "ana", "--root", str(stage))
    assert _tree(stage) == before


def test_tor_without_tor_installed_in_the_staging_root_is_a_note(stage):  # noqa: F811
    (stage / "etc/group").write_text("root:x:0:\n")
    out = cli("install", "--user", "ana", "--root", str(stage), "--tor", "--dry-run")
    assert "install tor first" in out.stdout and "meshcare-tor.conf" in out.stdout
    out = cli("install", "--user", "ana", "--root", str(stage), "--tor", "--no-tor", check=False)
    assert out.returncode == 2 and "not allowed with" in out.stderr
