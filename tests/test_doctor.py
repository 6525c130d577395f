"""`meshcare doctor`'s judges and runner: each check finds the problem it claims to find (made here with
real files and sockets on 127.0.0.1 where that is cheap, with facts built by hand where it would need
root, a second user, a full disk, a broken interface or systemd), and a check that hangs or fails is
one line while the others still run. Budget: under 3 s."""

from __future__ import annotations

import errno
import os
import socket
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from meshcare import config
from meshcare.circles.circle import FUTURE_SLACK
from meshcare.control.results_doctor import NodeHealthResult
from meshcare.control.views_doctor import DiscoveryHealth, PeerClock
from meshcare.doctor import clock, disk, files, network, node, probes, run, systemd
from meshcare.doctor.facts import DaemonFacts, DiskFact, FileFact, Interface
from meshcare.doctor.findings import Finding, Level, failed, summary
from meshcare.doctor.names import CHECK_NAMES
from meshcare.sync.clock_skew import ClockSkew

UID = os.geteuid()


def levels(found: list[Finding]) -> list[Level]:
    return [f.level for f in found]


def health(**changes) -> NodeHealthResult:
    base = NodeHealthResult(listen="127.0.0.1:7447", links=1, known=0, static_peers=0,
                            discovery=DiscoveryHealth(enabled=True, running=True, interfaces=(), registered=True,
                                                      advertised=("192.0.2.2",), instance_name="mc-ab._meshcare._tcp.local.",
                                                      found=1, last_error=""),
                            clocks=(), future_slack_s=FUTURE_SLACK, deferred=0)
    return replace(base, **changes)


def dark(daemon: DaemonFacts | None = None, **probes_changed) -> run.Probes:
    """Probes that look at nothing real unless told: no daemon, free port, a healthy LAN, no systemd."""
    base = run.Probes(daemon_facts=lambda s: daemon or DaemonFacts(pid=None, answers=False, socket_exists=False),
                      port_results=lambda h, p, t: [(p, 0)],
                      interfaces=lambda: [Interface("eth0", True, True, False, ("192.0.2.2",))],
                      disk_fact=lambda p: DiskFact(p, 10 * 2**30, 20 * 2**30, 10**6, 2 * 10**6),
                      systemd_booted=lambda: False, mdns_probe=None)
    return replace(base, **probes_changed)


# --- data dir and files ---------------------------------------------------------------------------------

@pytest.fixture
def data(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    from meshcare.crypto import keys, keystore

    keystore.create(home / "identity.key", keys.Identity.generate("ana"), None)
    for name in ("circles.state", "store.sqlite3"):
        (home / name).write_bytes(b"x")
        (home / name).chmod(0o600)
    return home


def test_a_healthy_data_dir_is_ok(data):
    ctx = run.Context(config.Settings(home=data), dark())
    assert levels(run.check_data_dir(ctx)) == [Level.OK]
    assert levels(run.check_files(ctx)) == [Level.OK]


def test_an_open_data_dir_and_key_are_problems_with_the_exact_chmod(data):
    data.chmod(0o755)
    (data / "identity.key").chmod(0o644)
    (data / "circles.state").chmod(0o660)
    ctx = run.Context(config.Settings(home=data), dark())
    [d] = run.check_data_dir(ctx)
    assert d.level is Level.PROBLEM and "0755" in d.what and d.fix == f"`chmod 700 {data}`."
    found = run.check_files(ctx)
    assert levels(found) == [Level.PROBLEM, Level.PROBLEM]
    assert found[0].fix == f"`chmod 600 {data / 'identity.key'}`." and "0644" in found[0].what
    assert found[1].fix == f"`chmod 600 {data / 'circles.state'}`."


def test_a_missing_data_dir_or_key_says_how_to_make_or_restore_one(tmp_path, data):
    [d] = files.judge_data_dir(FileFact(tmp_path / "nowhere", exists=False), UID, "ana")
    assert d.level is Level.PROBLEM and "meshcare init" in d.fix and "backup import" in d.fix
    (data / "identity.key").unlink()
    [f] = run.check_files(run.Context(config.Settings(home=data), dark()))
    assert f.level is Level.PROBLEM and "identity.key is missing" in f.what


def test_files_of_another_user_need_the_exact_chown():
    home = Path("/srv/mc")
    [d] = files.judge_data_dir(FileFact(home, True, True, 0o700, uid=UID + 1), UID, "ana")
    assert d.level is Level.PROBLEM and d.fix.endswith("`sudo chown -R ana: /srv/mc`.")
    found = files.judge_files([FileFact(home / "identity.key", True, False, 0o600, uid=UID + 1)], UID, "ana")
    assert levels(found) == [Level.PROBLEM] and found[0].fix == "`sudo chown ana: /srv/mc/identity.key`."


def test_a_key_its_owner_cannot_read_is_a_problem():
    [f] = files.judge_files([FileFact(Path("/h/identity.key"), True, False, 0o000, uid=UID)], UID, "ana")
    assert f.level is Level.PROBLEM and f.fix == "`chmod 600 /h/identity.key`."


# --- daemon, identity, port -----------------------------------------------------------------------------

def test_daemon_running_stuck_or_absent_with_a_stale_socket():
    assert levels(node.judge_daemon(DaemonFacts(pid=7, answers=True, socket_exists=True), "c", "l")) == [Level.OK]
    [stuck] = node.judge_daemon(DaemonFacts(pid=7, answers=False, socket_exists=True), "c", "l")
    assert stuck.level is Level.PROBLEM and "pid 7" in stuck.what and "meshcare stop" in stuck.fix
    [gone] = node.judge_daemon(DaemonFacts(pid=None, answers=False, socket_exists=False), "c", "l")
    assert gone.level is Level.PROBLEM and "meshcare start" in gone.fix and "left" not in gone.what
    [stale] = node.judge_daemon(DaemonFacts(pid=None, answers=False, socket_exists=True), "/h/control.sock", "l")
    assert stale.level is Level.PROBLEM and "/h/control.sock" in stale.what and "ended" in stale.what


def test_the_real_probe_finds_a_stale_socket_and_no_daemon(tmp_path):
    home = tmp_path / "h"
    home.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(home / "control.sock"))           # bound, never listening: what a killed daemon leaves
    facts = probes.daemon_facts(config.Settings(home=home))
    assert facts == DaemonFacts(pid=None, answers=False, socket_exists=True, note="the control socket does not answer")


def test_a_locked_identity_of_a_stopped_node_cannot_start_by_itself():
    [f] = node.judge_identity("ana", True, "", running=False, passphrase_file=False)
    assert f.level is Level.WARNING and "passphrase_file" in f.fix
    assert levels(node.judge_identity("ana", True, "", running=True, passphrase_file=False)) == [Level.OK]
    assert levels(node.judge_identity("ana", True, "", running=False, passphrase_file=True)) == [Level.OK]
    [bad] = node.judge_identity(None, False, "not a meshcare keystore", running=False, passphrase_file=False)
    assert bad.level is Level.PROBLEM and "backup import" in bad.fix


def test_the_identity_check_reads_a_real_protected_key(tmp_path):
    from meshcare.crypto import keys, keystore

    home = tmp_path / "h"
    home.mkdir(mode=0o700)
    keystore.create(home / "identity.key", keys.Identity.generate("ana"), b"pass phrase", ops=1, mem=8192)
    [f] = run.check_identity(run.Context(config.Settings(home=home), dark()))
    assert f.level is Level.WARNING and f.what.startswith("ana:")


def test_a_port_in_use_is_found_on_loopback(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        results = probes.port_results("127.0.0.1", port, 20)
        assert results[0] == (port, errno.EADDRINUSE)
        settings = config.Settings(home=tmp_path, listen=("127.0.0.1", port))
        [moved] = run.check_port(run.Context(settings, replace(dark(), port_results=probes.port_results)))
        assert moved.level is Level.WARNING and f"port {port} is in use" in moved.what
        assert f"ss -ltnp 'sport = :{port}'" in moved.fix
        fixed = run.Context(settings.replace(listen_fixed=True), replace(dark(), port_results=probes.port_results))
        assert levels(run.check_port(fixed)) == [Level.PROBLEM]
    assert probes.port_results("127.0.0.1", port, 20) == [(port, 0)]


def test_port_every_try_taken_refused_or_not_ours():
    taken = [(7447 + i, errno.EADDRINUSE) for i in range(20)]
    assert levels(node.judge_port("", 7447, taken, fixed=False)) == [Level.PROBLEM]
    [low] = node.judge_port("", 80, [(80, errno.EACCES)], fixed=True)
    assert low.level is Level.PROBLEM and "1024" in low.what
    [foreign] = node.judge_port("192.0.2.99", 7447, [(7447, errno.EADDRNOTAVAIL)], fixed=False)
    assert foreign.level is Level.PROBLEM and "not an address of this machine" in foreign.what


# --- neighbours and multicast ---------------------------------------------------------------------------

def test_neighbours_say_why_there_are_no_links():
    assert levels(network.judge_neighbours(health())) == [Level.OK]
    off = health(links=0, discovery=replace(health().discovery, enabled=False, running=False))
    [f] = network.judge_neighbours(off)
    assert f.level is Level.PROBLEM and "discovery = true" in f.fix
    failing = health(links=0, discovery=replace(health().discovery, running=False, last_error="no such address"))
    assert "no such address" in network.judge_neighbours(failing)[0].what
    alone = health(links=0, discovery=replace(health().discovery, found=0))
    [f] = network.judge_neighbours(alone)
    assert f.level is Level.WARNING and "client isolation" in f.fix and "peers = " in f.fix
    assert "known" in network.judge_neighbours(health(links=0, known=2))[0].what


def test_multicast_finds_a_down_interface_a_missing_flag_and_a_foreign_address():
    up = Interface("eth0", True, True, False, ("192.0.2.2",))
    lo = Interface("lo", True, False, True, ("127.0.0.1",))
    assert levels(network.judge_multicast([lo, up], (), True)) == [Level.OK]
    [f] = network.judge_multicast([lo, replace(up, up=False)], (), True)
    assert f.level is Level.PROBLEM and f.fix.startswith("`sudo ip link set dev eth0 up`")
    [f] = network.judge_multicast([lo, replace(up, multicast=False)], ("192.0.2.2",), True)
    assert f.level is Level.PROBLEM and f.fix == "`sudo ip link set dev eth0 multicast on`."
    [f] = network.judge_multicast([lo, up], ("198.51.100.7",), True)
    assert f.level is Level.PROBLEM and "198.51.100.7" in f.what
    [f] = network.judge_multicast([lo], (), True)
    assert f.level is Level.PROBLEM and "not on a LAN" in f.what
    assert levels(network.judge_multicast([lo], (), False)) == [Level.INFO]


def test_the_self_probe_runs_only_with_the_daemon_discovering_and_says_what_it_heard():
    asked: list[tuple[str, tuple[str, ...]]] = []

    def probe(name: str, addresses: tuple[str, ...]) -> bool:
        asked.append((name, addresses))
        return False

    home = Path("/nonexistent")
    stopped = run.Context(config.Settings(home=home), dark(mdns_probe=probe))
    assert levels(run.check_multicast(stopped)) == [Level.OK] and asked == []
    facts = DaemonFacts(pid=1, answers=True, socket_exists=True, health=health())
    running = run.Context(config.Settings(home=home), dark(facts, mdns_probe=probe))
    found = run.check_multicast(running)
    assert levels(found) == [Level.OK, Level.WARNING] and "5353" in found[1].fix
    assert asked == [("mc-ab._meshcare._tcp.local.", ())]


# --- clock, disk, service -------------------------------------------------------------------------------

def clocks(*offsets: float) -> NodeHealthResult:
    return health(clocks=tuple(PeerClock(node_id=f"{i:02x}" * 32, offset_s=o, samples=3, age_s=1.0)
                               for i, o in enumerate(offsets)))


def test_clock_skew_against_the_future_limit():
    assert levels(clock.judge_clock(clocks(2.0, -3.0))) == [Level.OK]
    [f] = clock.judge_clock(clocks(1.0, 90.0))
    assert f.level is Level.WARNING and "01010101 is 90 s ahead" in f.what and "timedatectl" in f.fix
    [f] = clock.judge_clock(clocks(-500.0))
    assert f.level is Level.PROBLEM and "this machine's clock is 500 s ahead" in f.what
    assert f"{FUTURE_SLACK} s" in f.what and clock.PROBLEM_S < FUTURE_SLACK
    assert levels(clock.judge_clock(health(links=0))) == [Level.INFO]


def test_clock_skew_samples_are_bounded_windowed_and_keep_the_least_delayed():
    skew = ClockSkew(max_peers=2, samples=3, window=100)
    for delay in (0.5, 5.0, 2.0, 9.0):
        skew.observe(b"a", created=1000 + 300, now=1000 + delay)
    [a] = skew.offsets(1010)
    assert a.peer == b"a" and a.offset_s == 298.0 and a.samples == 3      # the 0.5 s one fell out
    skew.observe(b"b", 990, 1000)
    skew.observe(b"c", 1000, 1000)
    assert {p.peer for p in skew.offsets(1010)} == {b"b", b"c"}            # a, sampled least recently, went
    assert skew.offsets(1200) == []


def test_disk_space_and_inodes():
    p = Path("/h")
    assert levels(disk.judge_disk(DiskFact(p, 10 * 2**30, 20 * 2**30, 10**6, 10**6))) == [Level.OK]
    assert levels(disk.judge_disk(DiskFact(p, 100 * 2**20, 20 * 2**30, 10**6, 10**6))) == [Level.WARNING]
    [f] = disk.judge_disk(DiskFact(p, 10 * 2**20, 20 * 2**30, 10**6, 10**6))
    assert f.level is Level.PROBLEM and "10.0 MiB" in f.what and "journalctl --vacuum-size" in f.fix
    assert levels(disk.judge_disk(DiskFact(p, 10 * 2**30, 20 * 2**30, 10, 10**6))) == [Level.PROBLEM]
    assert levels(disk.judge_disk(DiskFact(p, 10 * 2**30, 20 * 2**30, 10**4, 10**6))) == [Level.WARNING]
    assert levels(disk.judge_disk(DiskFact(p, 10 * 2**30, 20 * 2**30, 0, 0))) == [Level.OK]  # btrfs


def test_the_real_disk_probe_reads_the_data_dirs_filesystem(tmp_path):
    fact = probes.disk_fact(tmp_path / "not" / "yet")
    assert fact.total_bytes > 0 and 0 <= fact.free_bytes <= fact.total_bytes


SHOW = "LoadState={load}\nUnitFileState={file}\nActiveState={active}\nSubState={sub}\nResult={result}\n"


def unit(name: str, load="loaded", file="enabled", active="active", sub="running", result="success") -> str:
    return SHOW.format(load=load, file=file, active=active, sub=sub, result=result)


def test_service_states_from_systemctl():
    show = {"meshcare@ana.service": unit("x"), "meshcare.service": unit("x", load="not-found", file="", active="inactive")}
    ctx = run.Context(config.Settings(home=Path("/h")), dark(systemd_booted=lambda: True,
                                                             systemctl_show=lambda u, props: show[u]), user="ana")
    [f] = run.check_service(ctx)
    assert f.level is Level.OK and "meshcare@ana.service" in f.what
    show["meshcare@ana.service"] = unit("x", active="failed", sub="failed", result="watchdog")
    [f] = run.check_service(ctx)
    assert f.level is Level.PROBLEM and "watchdog" in f.what and "journalctl -u meshcare@ana.service" in f.fix
    show["meshcare@ana.service"] = unit("x", active="inactive", sub="dead")
    assert run.check_service(ctx)[0].fix == "`sudo systemctl start meshcare@ana.service`."
    show["meshcare@ana.service"] = unit("x", file="disabled")
    assert run.check_service(ctx)[0].fix == "`sudo systemctl enable meshcare@ana.service`."
    show["meshcare@ana.service"] = show["meshcare.service"]
    assert levels(run.check_service(ctx)) == [Level.INFO] and "service install" in run.check_service(ctx)[0].fix
    [f] = systemd.judge_service(False, ())
    assert f.level is Level.INFO and "not managed by systemd" in f.what


# --- the runner -----------------------------------------------------------------------------------------

def test_a_check_that_hangs_or_raises_is_one_error_line_and_the_others_run(tmp_path):
    release = threading.Event()

    def hangs(ctx: run.Context) -> list[Finding]:
        release.wait(10)
        return []

    def raises(ctx: run.Context) -> list[Finding]:
        raise RuntimeError("boom")

    ctx = run.Context(config.Settings(home=tmp_path), dark())
    try:
        found = run.run_checks(ctx, [("a", hangs), ("b", raises), ("disk", run.check_disk)], timeout=0.2)
    finally:
        release.set()
    assert levels(found) == [Level.ERROR, Level.ERROR, Level.OK]
    assert "did not finish within 0.2 s" in found[0].what and "RuntimeError: boom" in found[1].what
    assert failed(found) and summary(found)["errors"] == 2 and summary(found)["ok"] is False


def test_every_check_runs_in_order_against_a_dark_machine(data):
    found = run.run_checks(run.Context(config.Settings(home=data), dark()))
    assert [f.check for f in found] == list(CHECK_NAMES)
    assert [f.check for f in found if f.level is Level.PROBLEM] == ["daemon"]
    data_ = summary(found)
    assert data_["problems"] == 1 and set(data_["findings"][0]) == {"check", "level", "what", "fix"}


def test_the_nodes_part_of_node_health_without_a_shell():
    from meshcare.ops import OPS, perform

    from .nodenet import NodeNet

    net = NodeNet("ann")
    net.start("ann")
    data, effects = perform(OPS, "node.health", net.nodes["ann"], {}, net.now)
    assert effects == []
    result = NodeHealthResult.from_data(data)
    assert result.listen == "" and result.links == 0 and result.clocks == () and not result.discovery.enabled
    assert result.future_slack_s == FUTURE_SLACK


def test_settings_and_the_log_readable_by_others_are_a_warning_writable_a_problem():
    home = Path("/h")
    [read] = files.judge_files([FileFact(home / "config.toml", True, False, 0o644, UID)], UID, "ana")
    assert read.level is Level.WARNING and read.fix == "`chmod 600 /h/config.toml`."
    [write] = files.judge_files([FileFact(home / "config.toml", True, False, 0o666, UID)], UID, "ana")
    assert write.level is Level.PROBLEM
    [wal] = files.judge_files([FileFact(home / "store.sqlite3-wal", True, False, 0o644, UID)], UID, "ana")
    assert wal.level is Level.PROBLEM


def test_multicast_follows_the_running_nodes_discovery_over_config():
    facts = DaemonFacts(pid=1, answers=True, socket_exists=True,
                        health=health(discovery=replace(health().discovery, enabled=False, running=False)))
    ctx = run.Context(config.Settings(home=Path("/h"), discovery=True), dark(facts))
    [f] = run.check_multicast(ctx)
    assert f.level is Level.INFO and "--no-discovery" in f.what
