"""benchmarks/peers: the Reticulum/LXMF worker of the like-for-like benchmark. What can be checked without
Reticulum installed is checked here (the config it writes must hold only loopback TCP interfaces and no
shared instance; its arguments; its line protocol); one test runs the smoke run when the peers venv that
`make bench-peers` builds exists. `make test` never downloads Reticulum."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "benchmarks" / "peers"
PEERS_PYTHON = PEERS / ".venv" / "bin" / "python"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while building the classes
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(PEERS))  # lxmf_worker.py imports loopback_config.py from beside it, as a script does
loopback = _load("loopback_config", PEERS / "loopback_config.py")
worker = _load("lxmf_worker", PEERS / "lxmf_worker.py")
smoke = _load("lxmf_smoke", PEERS / "smoke.py")
ADDRESS = "00112233445566778899aabbccddeeff"


def test_the_worker_imports_and_helps_without_reticulum() -> None:
    code = ("import importlib.util, sys; sys.path.insert(0, sys.argv[2]); "
            "s = importlib.util.spec_from_file_location('w', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); sys.modules['w'] = m; s.loader.exec_module(m); "
            "print(sorted(k for k in ('RNS', 'LXMF') if k in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(PEERS / "lxmf_worker.py"), str(PEERS)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    helped = subprocess.run([sys.executable, str(PEERS / "lxmf_worker.py"), "--help"], capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert "loopback" in helped.stdout and "--connect-port" in helped.stdout


@pytest.mark.parametrize("role", loopback.ROLES)
def test_the_config_holds_only_loopback_tcp_and_no_shared_instance(role: str) -> None:
    text = loopback.config_text(role, 4001, (4002, 4003))
    assert loopback.config_problems(text, role) == []
    config = loopback.parse_config(text)
    assert set(config) == {"reticulum", "logging", "interfaces"}
    assert config["reticulum"]["share_instance"] == "No"
    assert config["reticulum"]["panic_on_interface_error"] == "Yes"
    assert config["reticulum"]["enable_transport"] == ("Yes" if role == "relay" else "No")
    kinds = sorted((i["type"], i.get("listen_ip") or i.get("target_host"), i.get("listen_port") or i["target_port"])
                   for i in config["interfaces"].values())
    assert kinds == [("TCPClientInterface", "127.0.0.1", "4002"), ("TCPClientInterface", "127.0.0.1", "4003"),
                     ("TCPServerInterface", "127.0.0.1", "4001")]
    assert "AutoInterface" not in text and "0.0.0.0" not in text


def test_a_node_that_only_listens_has_one_server_and_no_client() -> None:
    config = loopback.parse_config(loopback.config_text("receiver", 4001, ()))
    assert [i["type"] for i in config["interfaces"].values()] == ["TCPServerInterface"]


GOOD = loopback.config_text("sender", 4001, (4002,))


@pytest.mark.parametrize("text, why", [
    (GOOD + "  [[Default Interface]]\n    type = AutoInterface\n    enabled = Yes\n", "AutoInterface"),
    (GOOD.replace("listen_ip = 127.0.0.1", "listen_ip = 0.0.0.0"), "listen_ip must be"),
    (GOOD.replace("target_host = 127.0.0.1", "target_host = 10.0.0.7"), "target_host must be"),
    (GOOD.replace("share_instance = No", "share_instance = Yes"), "share_instance"),
    (GOOD.replace("panic_on_interface_error = Yes", "panic_on_interface_error = No"), "panic_on_interface_error"),
    (GOOD.replace("enable_transport = No", "enable_transport = Yes"), "enable_transport must be No"),
    (GOOD.replace("    listen_port = 4001", "    listen_port = 4001\n    device = eth0"), "key device"),
    (GOOD.replace("  respond_to_probes = No", "  discoverable = Yes"), "discoverable is not allowed"),
    (GOOD + "[extra]\n  a = b\n", "unexpected section"),
    (GOOD + "  this is not config\n", "not understood"),
    (GOOD.replace("TCPServerInterface", "TCPClientInterface"), "exactly one TCPServerInterface"),
    (GOOD.replace("  share_instance = No\n", "  share_instance = No\n  share_instance = No\n"), "twice"),
    ("[reticulum]\n  share_instance = No\n  panic_on_interface_error = Yes\n", "no interface"),
])
def test_a_config_that_could_leave_loopback_is_refused(text: str, why: str) -> None:
    problems = loopback.config_problems(text, "sender")
    assert any(why in p for p in problems), problems


def test_an_unknown_role_gets_no_config() -> None:
    with pytest.raises(loopback.ConfigError, match="unknown role"):
        loopback.config_text("hub", 4001, ())


def test_the_relay_alone_forwards() -> None:
    assert loopback.config_problems(loopback.config_text("relay", 4001, ()), "relay") == []
    assert any("enable_transport must be Yes" in p
               for p in loopback.config_problems(loopback.config_text("receiver", 4001, ()), "relay"))


def test_interfaces_reticulum_holds_must_be_loopback_tcp() -> None:
    loopback_only = [("TCPServerInterface", "127.0.0.1"), ("TCPClientInterface", "127.0.0.1")]
    assert loopback.interface_problems(loopback_only) == []
    problems = loopback.interface_problems([("AutoInterface", "ff12::1"), ("LocalServerInterface", "127.0.0.1"),
                                          ("TCPClientInterface", "192.168.1.4")])
    assert len(problems) == 3
    assert "AutoInterface" in problems[0] and "192.168.1.4" in problems[2]


def test_commands_parse_into_their_types() -> None:
    send = worker.parse_command(json.dumps({"cmd": "send", "n": 7, "size": 200, "to": ADDRESS.upper()}))
    assert send == worker.Send(n=7, size=200, to=ADDRESS)
    assert worker.parse_command('{"cmd": "stats"}') == worker.Stats()
    assert worker.parse_command('{"cmd": "quit"}') == worker.Quit()


@pytest.mark.parametrize("line, why", [
    ("send 1", "not a JSON line"),
    ("[1, 2]", "JSON object"),
    ('{"cmd": "fly"}', "unknown cmd"),
    ('{"cmd": "send", "size": 200, "to": "%s"}' % ADDRESS, "n must be"),
    ('{"cmd": "send", "n": true, "size": 200, "to": "%s"}' % ADDRESS, "n must be"),
    ('{"cmd": "send", "n": 100000000, "size": 200, "to": "%s"}' % ADDRESS, "n must be"),
    ('{"cmd": "send", "n": 1, "size": 7, "to": "%s"}' % ADDRESS, "size must be"),
    ('{"cmd": "send", "n": 1, "size": 200, "to": "abc"}', "to must be"),
    ('{"cmd": "send", "n": 1, "size": 200}', "to must be"),
])
def test_a_bad_command_is_named(line: str, why: str) -> None:
    with pytest.raises(worker.WorkerError, match=why):
        worker.parse_command(line)


def test_a_body_starts_with_its_number_and_has_the_size_asked() -> None:
    content = worker.body(42, 200)
    assert len(content) == 200 and content.startswith(b"00000042")
    assert worker.number_of(content) == 42
    assert worker.number_of(worker.body(0, 8)) == 0
    with pytest.raises(worker.WorkerError):
        worker.number_of(b"12ab5678 and more")
    with pytest.raises(worker.WorkerError):
        worker.body(1, 7)


def test_options_by_role(tmp_path: Path) -> None:
    opts = worker.parse_args(["--role", "sender", "--dir", str(tmp_path), "--listen-port", "4001",
                              "--connect-port", "4002", "--connect-port", "4003", "--to", ADDRESS.upper()])
    assert (opts.role, opts.listen_port, opts.connect_ports, opts.method, opts.to) == \
        ("sender", 4001, (4002, 4003), "direct", ADDRESS)
    relay = worker.parse_args(["--role", "relay", "--dir", str(tmp_path), "--listen-port", "4001"])
    assert relay.connect_ports == () and relay.to is None


@pytest.mark.parametrize("argv", [
    ["--role", "relay", "--listen-port", "4001", "--to", ADDRESS],
    ["--role", "sender", "--listen-port", "4001", "--connect-port", "4001"],
    ["--role", "sender", "--listen-port", "70000"],
    ["--role", "sender", "--listen-port", "4001", "--to", "xyz"],
    ["--role", "sender", "--listen-port", "4001", "--method", "propagated"],
    ["--role", "hub", "--listen-port", "4001"],
])
def test_bad_options_are_refused(argv: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        worker.parse_args([*argv, "--dir", str(tmp_path)])
    assert stopped.value.code == 2


def test_lines_from_many_threads_stay_whole() -> None:
    stream = io.StringIO()
    lines = worker.Lines(stream)
    threads = [threading.Thread(target=lambda i=i: [lines.write({"acked": i, "t": 1.5}) for _ in range(50)])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(parsed) == 200 and all(set(p) == {"acked", "t"} for p in parsed)


def test_the_smoke_report_names_runs_of_numbers() -> None:
    assert smoke.spread([]) == "none"
    assert smoke.spread([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"
    assert smoke.parse_args([]).messages == 20
    with pytest.raises(SystemExit):
        smoke.parse_args(["--messages", "201"])


def _peers_venv_works() -> bool:
    if not PEERS_PYTHON.exists():
        return False
    probe = subprocess.run([str(PEERS_PYTHON), "-c", "import RNS, LXMF"], capture_output=True, timeout=60)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _peers_venv_works(),
                    reason="no Reticulum/LXMF venv at benchmarks/peers/.venv: `make bench-peers` builds it "
                           "(make test never downloads Reticulum)")
def test_the_smoke_run_delivers_and_proves_every_message() -> None:
    done = subprocess.run([str(PEERS_PYTHON), str(PEERS / "smoke.py"), "--messages", "3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    for run in ("pair/direct", "pair/opportunistic", "chain/direct", "chain/opportunistic"):
        assert f"{run}: sent 1-3" in done.stdout
    assert done.stdout.count("arrived 1-3 (3/3") == 4 and done.stdout.count("proofs  1-3 (3/3)") == 4
