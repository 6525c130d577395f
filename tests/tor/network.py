"""A private Tor network in Linux network namespaces, fully offline, for the tor tests and the benchmark.

Theory of operation (the recipe is /work/shared/research/tor-private-network.md, sections 3, 4 and 10)
-------------------------------------------------------------------------------------------------------
``TorNet(lans=(3, 3))`` builds, all private to this run (``<name>`` = ``<prefix>-<random>``)::

    <name>-tb   the tor bridge (br0, STP off), TEST-NET-2 198.51.100.0/24, no uplink
    <name>-a1..a3  directory authorities  198.51.100.1-3    ORPort 5000, DirPort 7000 (keys: tor-gencert, per run)
    <name>-r1..r3  relays (non-exit)      198.51.100.11-13  ORPort 5000
    <name>-g1, -g2 gateways: a client tor 198.51.100.21-22, SocksPort 127.0.0.1:9050 ExtendedErrors and a
                   cookie ControlPort 127.0.0.1:9051 -- no HiddenServiceDir: meshcare (or the smoke test)
                   publishes its own onion over the control port
    <name>-b1, -b2 one LAN bridge per gateway; LAN 1 is TEST-NET-1 192.0.2.0/24, LAN 2 TEST-NET-3
                   203.0.113.0/24; the gateway is .1 on its LAN (a second interface), hosts .2, .3, ...

IP forwarding is off everywhere, so the only way between the LANs is Tor. Hosts are numbered like
``tests/netns/harness.Mesh``'s (1-based, LAN 1 first, each LAN's gateway first), and ``TorNet`` offers the
part of ``Mesh``'s interface that ``tests/netns/test_mesh.Cluster`` uses (``n``, ``workdir``, ``addr``,
``run``, ``output``, ``kill``), so real daemons run on it exactly as on a plain mesh.

The audit (section 3 of the notes): every namespace gets a default route to a gateway that does not exist
and an nftables ``inet tbaudit`` output chain that accepts loopback, the three TEST-NET subnets of the
test bed and link-local multicast (mDNS), and counts and drops everything else. (A LAN host dialling the
other LAN's address, say an invite hint, is not a leak: that packet goes to the nonexistent gateway and
dies on its own LAN, as it would behind a home router.) Any attempt to reach the public
network therefore produces a counted packet (without the default route it would fail with ENETUNREACH before
netfilter saw it); ``leaks()`` reads every counter, and the tests assert they are all zero. Every tor runs
with ``TestingTorNetwork 1``, our own three ``DirAuthority`` lines and ``UseDefaultFallbackDirs 0``;
``_start_tor`` refuses a torrc without them. ``ServerDNSResolvConfFile`` keeps relays off the host's resolver.

Bring-up is staged: authorities and relays first, the client tors once ``a1``'s consensus lists all six
(they then bootstrap in about a second). Teardown stops every process by pid (SIGTERM, SIGKILL after 5 s),
meshcare's first, and deletes every namespace; ``MESHCARE_KEEP_NETNS_LOGS=1`` keeps the workdir (tor logs,
daemon output). ``log_tails()`` gives each tor's last log lines for a failure message.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.netns.harness import (NetnsError, Processes, add_bridge, clean_up, netns_problem, plug, run_command,
                                 stop_processes)

from .nsnet import RawControl, ns_socket
from .torrc import CONTROL_PORT, SOCKS_PORT, dirauthority_line, is_private, render, start_gencert

__all__ = ["CONTROL_PORT", "SOCKS_PORT", "Host", "TorNet", "TorNode", "require_tor", "tor_problem"]

TOR_SUBNET = "198.51.100"                 # TEST-NET-2
LAN_SUBNETS = ("192.0.2", "203.0.113")    # TEST-NET-1, TEST-NET-3
TEST_SUBNETS = (TOR_SUBNET, *LAN_SUBNETS)  # what the audit lets out (see the module docstring)
NOWHERE = 254                             # the nonexistent default gateway on every subnet
AUTHORITIES, RELAYS = 3, 3
CONSENSUS_TIMEOUT = 90.0
BOOTSTRAP_TIMEOUT = 60.0
STOP_GRACE = 5.0
CANARY = ("198.18.0.1", 9)   # RFC 2544's benchmarking range: outside the test bed, and nobody's on the internet
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]{0,5}")


@functools.cache
def tor_problem() -> str | None:
    """Why the tor test bed cannot run here, or None when it can (namespaces plus tor and tor-gencert)."""
    problem = netns_problem()
    if problem is not None:
        return problem
    missing = [tool for tool in ("tor", "tor-gencert") if shutil.which(tool) is None]
    if missing:
        return (f"the private Tor network needs {' and '.join(missing)} (Debian package tor; "
                "tests/system-deps.sh installs it when run as root)")
    return None


def require_tor() -> None:
    """Skip the calling test (visibly) when the test bed cannot run; under ``CI=true`` fail instead."""
    import pytest  # noqa: PLC0415 (the benchmark uses this module without pytest)

    problem = tor_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {problem}", pytrace=False)
    pytest.skip(problem)


@dataclass
class TorNode:
    """One tor of the network: where it runs, its files and its process (None while stopped)."""

    name: str          # a1, r2, g1
    role: str          # "authority" | "relay" | "client"
    ns: str
    ip: str
    datadir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: list[int] = field(default_factory=list)   # notice.log size at each start (to read new lines)

    @property
    def torrc(self) -> Path:
        return self.datadir.parent / f"{self.name}.torrc"

    @property
    def log(self) -> Path:
        return self.datadir / "notice.log"

    @property
    def cookie(self) -> Path:
        return self.datadir / "control_auth_cookie"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def log_since_start(self) -> str:
        try:
            with self.log.open("rb") as f:
                f.seek(self.starts[-1] if self.starts else 0)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""


@dataclass(frozen=True)
class Host:
    """A host meshcare can run on: a gateway (``gateway`` > 0) or a plain LAN host."""

    ns: str
    addr: str          # its LAN address (a gateway without a LAN: its tor bridge address)
    lan: int           # 1-based
    gateway: int       # 0 for a plain LAN host


# --- the network -------------------------------------------------------------------------------------


class TorNet:
    """Authorities, relays and one client tor per gateway, each gateway optionally with a LAN behind it.

    ``lans[k]`` is the number of hosts on gateway k+1's LAN counting the gateway (1 = no LAN bridge).
    A context manager: entering brings the whole network up (``timings`` says how long each stage took),
    leaving tears everything down.
    """

    def __init__(self, lans: Sequence[int] = (1, 1), prefix: str = "mt") -> None:
        if not 1 <= len(lans) <= len(LAN_SUBNETS) or any(not 1 <= size <= 20 for size in lans):
            raise ValueError(f"1..{len(LAN_SUBNETS)} gateways with 1..20 hosts each, not {lans}")
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"prefix {prefix!r}: a letter then up to 5 letters or digits")
        self.name = f"{prefix}-{secrets.token_hex(3)}"
        self.lans = tuple(lans)
        self.bridge = f"{self.name}-tb"
        self.timings: dict[str, float] = {}
        self.tors: dict[str, TorNode] = {}
        self.hosts: list[Host] = []
        for g, size in enumerate(self.lans, start=1):
            for j in range(1, size + 1):
                ns = f"{self.name}-g{g}" if j == 1 else f"{self.name}-l{g}h{j}"
                addr = f"{LAN_SUBNETS[g - 1]}.{j}" if size > 1 else f"{TOR_SUBNET}.{20 + g}"
                self.hosts.append(Host(ns, addr, g, g if j == 1 else 0))
        self._created: list[str] = []
        self._audited: list[str] = []
        self._canaries: dict[str, int] = {}
        self._processes = Processes("network")
        self._dir: Path | None = None

    # --- Mesh's interface (for tests/netns/test_mesh.Cluster) ---

    @property
    def n(self) -> int:
        return len(self.hosts)

    @property
    def workdir(self) -> Path:
        if self._dir is None:
            raise RuntimeError("the network is not running; use 'with TorNet(...) as net:'")
        return self._dir

    def host(self, i: int) -> Host:
        if not 1 <= i <= self.n:
            raise ValueError(f"host {i} is not in this network (1..{self.n})")
        return self.hosts[i - 1]

    def ns(self, i: int) -> str:
        return self.host(i).ns

    def addr(self, i: int) -> str:
        return self.host(i).addr

    def gateway_host(self, g: int) -> int:
        """The host number of gateway ``g``."""
        return next(i for i, h in enumerate(self.hosts, start=1) if h.gateway == g)

    def lan_hosts(self, g: int) -> list[int]:
        """The host numbers on gateway ``g``'s LAN, the gateway first."""
        return [i for i, h in enumerate(self.hosts, start=1) if h.lan == g]

    def run(self, i: int, argv: Sequence[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside host ``i`` (output to files; the PID is the process's own)."""
        return self._processes.start(self.workdir, i, self.ns(i), argv, env)

    def output(self, process: subprocess.Popen[bytes]) -> tuple[str, str]:
        return self._processes.output(process)

    def kill(self, i: int, sig: int = signal.SIGTERM) -> list[int]:
        return self._processes.kill(i, sig)

    # --- lifecycle ---

    def __enter__(self) -> TorNet:
        self._dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        try:
            t0 = time.monotonic()
            self._build()
            self.timings["namespaces_s"] = time.monotonic() - t0
            t1 = time.monotonic()
            self._configure()
            self.timings["keys_s"] = time.monotonic() - t1
            t2 = time.monotonic()
            for node in self.tors.values():
                if node.role != "client":
                    self._start_tor(node)
            self.wait_consensus()
            self.timings["consensus_s"] = time.monotonic() - t2
            for g in range(1, len(self.lans) + 1):
                self._start_tor(self.client(g))
            for g in range(1, len(self.lans) + 1):
                self.wait_bootstrapped(g)
            self.timings["clients_s"] = time.monotonic() - t2 - self.timings["consensus_s"]
            self.timings["bring_up_s"] = time.monotonic() - t0
        except BaseException as exc:
            tails = self.log_tails()
            problems = self._teardown()
            if isinstance(exc, Exception):
                raise NetnsError(f"the private Tor network did not come up: {exc}\n{tails}\n"
                                 f"cleanup problems: {problems}") from exc
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        problems = self._teardown()
        if problems and exc is None:
            raise NetnsError("cleanup failed: " + "; ".join(problems))

    # --- building ---

    def _add_namespace(self, name: str) -> None:
        run_command(["ip", "netns", "add", name])
        self._created.append(name)
        run_command(["ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=0"])
        run_command(["ip", "-n", name, "link", "set", "lo", "up"])
        allowed = ", ".join(["127.0.0.0/8", "224.0.0.0/24", *(f"{s}.0/24" for s in TEST_SUBNETS)])
        script = ("table inet tbaudit {\n chain out {\n  type filter hook output priority 0; policy accept;\n"
                  f"  oifname \"lo\" accept\n  ip daddr {{ {allowed} }} accept\n"
                  "  counter drop comment \"anything else would leave the test bed\"\n }\n}\n")
        run_command(["ip", "netns", "exec", name, "nft", "-f", "-"], stdin=script)
        self._audited.append(name)

    def _bridge(self, name: str) -> None:
        self._add_namespace(name)
        add_bridge(name)

    def _build(self) -> None:
        self._bridge(self.bridge)
        nodes = [(f"a{k}", "authority", k) for k in range(1, AUTHORITIES + 1)]
        nodes += [(f"r{k}", "relay", 10 + k) for k in range(1, RELAYS + 1)]
        nodes += [(f"g{g}", "client", 20 + g) for g in range(1, len(self.lans) + 1)]
        for nick, role, last in nodes:
            ip = f"{TOR_SUBNET}.{last}"
            ns = f"{self.name}-{nick}"
            self._add_namespace(ns)
            plug(ns, "eth0", self.bridge, f"p{nick}", ip)
            run_command(["ip", "-n", ns, "route", "add", "default", "via", f"{TOR_SUBNET}.{NOWHERE}"])
            datadir = self.workdir / nick
            datadir.mkdir(mode=0o700)
            self.tors[nick] = TorNode(nick, role, ns, ip, datadir)
        for g, size in enumerate(self.lans, start=1):
            if size == 1:
                continue
            lan_bridge = f"{self.name}-b{g}"
            self._bridge(lan_bridge)
            subnet = LAN_SUBNETS[g - 1]
            for j, host in enumerate(h for h in self.hosts if h.lan == g):
                if host.gateway:
                    plug(host.ns, "eth1", lan_bridge, "p1", host.addr)
                    continue
                self._add_namespace(host.ns)
                plug(host.ns, "eth0", lan_bridge, f"p{j + 1}", host.addr)
                run_command(["ip", "-n", host.ns, "route", "add", "default", "via", f"{subnet}.{NOWHERE}"])

    def _configure(self) -> None:
        """Authority keys (tor-gencert, this run only), their ``DirAuthority`` lines, and every torrc."""
        resolv = self.workdir / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\n")
        authorities = [n for n in self.tors.values() if n.role == "authority"]
        gencerts = [start_gencert(node.ns, node.ip, node.datadir) for node in authorities]
        for node, process in zip(authorities, gencerts, strict=True):
            _, err = process.communicate(b"\n", timeout=120)   # an empty passphrase
            if process.returncode != 0:
                raise NetnsError(f"tor-gencert for {node.name} failed: {err.decode(errors='replace')}")
        lines = [dirauthority_line(node.ns, f"tb{node.name}", node.ip, node.datadir) for node in authorities]
        for node in self.tors.values():
            node.torrc.write_text(render(node.role, datadir=node.datadir, nick=f"tb{node.name}", ip=node.ip,
                                         dirauthorities=lines, resolvconf=resolv))

    # --- tors ---

    def client(self, g: int) -> TorNode:
        """Gateway ``g``'s client tor."""
        return self.tors[f"g{g}"]

    def _start_tor(self, node: TorNode) -> None:
        if not is_private(node.torrc.read_text(), "tba1"):
            raise NetnsError(f"refusing to start {node.name}: its torrc is not for this private network")
        if node.pid is not None:
            raise NetnsError(f"{node.name} is already running (pid {node.pid})")
        node.starts.append(node.log.stat().st_size if node.log.exists() else 0)
        with (node.datadir.parent / f"{node.name}.out").open("ab") as out:
            node.process = subprocess.Popen(["ip", "netns", "exec", node.ns, "tor", "-f", str(node.torrc)],
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def stop_tor(self, node: TorNode, sig: int = signal.SIGTERM) -> None:
        """Stop ``node``'s tor by pid (``sig``, then SIGKILL after the grace period) and reap it."""
        if node.process is not None:
            problems = stop_processes([node.process], STOP_GRACE, sig=sig, what=f"tor {node.name}")
            if problems:
                raise NetnsError("; ".join(problems))

    def restart_client(self, g: int) -> None:
        """Start gateway ``g``'s client tor again (same data directory and ports) and wait for its bootstrap."""
        self._start_tor(self.client(g))
        self.wait_bootstrapped(g)

    def consensus_size(self) -> int:
        """How many relays ``a1``'s current consensus lists (0 before the first one)."""
        try:
            text = (self.tors["a1"].datadir / "cached-consensus").read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return sum(1 for line in text.splitlines() if line.startswith("r "))

    def wait_consensus(self, timeout: float = CONSENSUS_TIMEOUT) -> None:
        self._wait(lambda: self.consensus_size() >= AUTHORITIES + RELAYS, timeout,
                   f"a consensus listing all {AUTHORITIES + RELAYS} relays")

    def wait_bootstrapped(self, g: int, timeout: float = BOOTSTRAP_TIMEOUT) -> None:
        node = self.client(g)
        self._wait(lambda: "Bootstrapped 100%" in node.log_since_start() and node.cookie.exists(), timeout,
                   f"{node.name}'s tor to bootstrap")

    def control(self, g: int, timeout: float = 10.0) -> RawControl:
        """A raw control connection to gateway ``g``'s tor (close it, or use it in a ``with``)."""
        node = self.client(g)
        return RawControl(node.ns, CONTROL_PORT, str(node.cookie), timeout)

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for node in self.tors.values():
                if node.process is not None and node.process.poll() is not None and node.starts \
                        and node.process.returncode not in (0, -signal.SIGTERM):
                    raise NetnsError(f"tor {node.name} exited with {node.process.returncode} "
                                     f"while waiting for {what}")
            if time.monotonic() > deadline:
                raise NetnsError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.1)

    # --- audit and diagnostics ---

    def leaks(self) -> dict[str, int]:
        """Packets each namespace's audit counted (and dropped): anything that tried to leave the test bed,
        not counting ``canary`` packets."""
        return {ns: n - self._canaries.get(ns, 0) for ns, n in self._counted().items()}

    def canary(self, ns: str) -> int:
        """Send one UDP datagram from ``ns`` to ``CANARY``; return how many packets the audit counted for
        it (1 when the audit works). Remembered, so ``leaks`` does not report it."""
        before = self._counted()[ns]
        with ns_socket(ns, socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(b"canary", CANARY)
            except PermissionError:
                pass            # what a local sender sees when nftables drops its packet
        counted = self._counted()[ns] - before
        self._canaries[ns] = self._canaries.get(ns, 0) + counted
        return counted

    def _counted(self) -> dict[str, int]:
        counts = {}
        for ns in self._audited:
            if ns not in self._created:
                continue
            listed = json.loads(run_command(["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet",
                                             "tbaudit"]))
            packets = 0
            for item in listed.get("nftables", []):
                for expr in item.get("rule", {}).get("expr", []):
                    if "counter" in expr:
                        packets += int(expr["counter"]["packets"])
            counts[ns] = packets
        return counts

    def forwarding(self) -> dict[str, str]:
        """``net.ipv4.ip_forward`` in every namespace (all "0": no route between the LANs but Tor)."""
        return {ns: run_command(["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.ip_forward"]).strip()
                for ns in self._created}

    def log_tails(self, lines: int = 12) -> str:
        """The last lines of every tor's notice log, and its warnings, for a failure message."""
        parts = []
        for node in self.tors.values():
            try:
                text = node.log.read_text(errors="replace").splitlines()
            except (FileNotFoundError, RuntimeError):
                continue
            warnings = [line for line in text if "[warn]" in line or "[err]" in line][-4:]
            state = "stopped" if node.pid is None else f"pid {node.pid}"
            parts.append(f"--- tor {node.name} ({state}) warnings:\n" + "\n".join(warnings)
                         + f"\n--- tor {node.name} last {lines} lines:\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    @contextmanager
    def explain(self) -> Iterator[None]:
        """Append every tor's log tail to an assertion failing inside the block."""
        try:
            yield
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tails()}") from exc

    # --- teardown ---

    def _teardown(self) -> list[str]:
        """Stop meshcare's processes, then every tor, then delete the namespaces and files; return what
        could not be cleaned."""
        problems = self._processes.stop(STOP_GRACE)
        tors = [node.process for node in self.tors.values() if node.process is not None]
        problems += stop_processes(tors, STOP_GRACE, what="tor")
        return problems + clean_up(self._created, self._dir)
