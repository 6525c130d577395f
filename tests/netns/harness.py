"""A throwaway LAN made of Linux network namespaces, for multi-node tests and benchmarks.

Theory of operation
-------------------
``Mesh(n)`` builds one switch and n hosts, all private to this run::

    <name>-br:  br0 (a Linux bridge, STP off) with ports p1..pn
    <name>-h1:  lo, eth0 = 192.0.2.1/24 ----veth---- p1
    ...
    <name>-hn:  lo, eth0 = 192.0.2.n/24 ----veth---- pn

``<name>`` is ``<prefix>-<random suffix>``, so parallel runs and leftovers of a crashed run never collide.
Addresses come from TEST-NET-1, there is no default route, and nothing touches the root namespace's
interfaces: mDNS and every other packet stay on this bridge.

Faults are injected where a real network would inject them, at the switch, with nftables ``bridge``
tables in the bridge namespace (this kernel has no ``tc netem``):

* ``loss(p)``: table ``meshloss`` drops each forwarded frame with probability p % (``numgen random``).
  A frame flooded to several ports is dropped independently per port, like a lossy radio.
* ``partition(groups)``: table ``meshpart`` drops frames between ports of different groups. Chosen over
  taking bridge ports down because traffic inside a group keeps flowing and no host sees a carrier
  change: the split is silent, like an access point that stops relaying between two halves of a house.
* ``cut(i)``: takes bridge port ``p<i>`` down ("the cable is pulled at the switch"): host i keeps its
  address and routes, its eth0 loses carrier, nothing reaches it or leaves it.

``run(i, argv)`` starts a process with ``ip netns exec``, which execs in place, so the ``Popen`` PID is the
process's own PID and signals reach it directly. Leaving the ``with`` block (normally or by an exception)
sends SIGTERM to every process still running, SIGKILL after 2 s, and deletes every namespace it made.

The pieces below ``Mesh`` does not own alone -- ``run_command``, ``plug``, ``add_bridge``, ``Processes``
(start, output, kill, stop), ``stop_processes`` and ``clean_up`` -- are also what tests/tor/network.py's
``TorNet`` is built from, so both test beds start, stop and tear down the same way.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SUBNET = "192.0.2"
MAX_HOSTS = 254
STOP_GRACE = 2.0
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,11}")
_COMMAND_TIMEOUT = 15.0


class NetnsError(RuntimeError):
    """A namespace, link or nftables command failed; the message holds the command and its stderr."""


def run_command(argv: Sequence[str], *, stdin: str | None = None) -> str:
    """Run a setup command to completion; raise ``NetnsError`` with its stderr if it fails."""
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"{' '.join(argv)}: {exc}") from exc
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


# --- can this machine run namespace tests? --------------------------------------------------------


@functools.cache
def netns_problem() -> str | None:
    """Why namespace tests cannot run here, or None when they can (checked once per process)."""
    if not sys.platform.startswith("linux"):
        return "network-namespace tests need Linux"
    if os.geteuid() != 0:
        return "network-namespace tests need root (CI runs them as root)"
    missing = [tool for tool, package in (("ip", "iproute2"), ("nft", "nftables")) if shutil.which(tool) is None]
    if missing:
        return f"network-namespace tests need iproute2 and nftables; missing: {', '.join(missing)} " \
               "(tests/system-deps.sh installs them when run as root)"
    probe = f"mcprobe-{secrets.token_hex(3)}"
    try:
        run_command(["ip", "netns", "add", probe])
        try:
            run_command(["ip", "-n", probe, "link", "add", "br0", "type", "bridge"])
            run_command(["ip", "netns", "exec", probe, "nft", "add", "table", "bridge", "probe"])
        finally:
            run_command(["ip", "netns", "del", probe])
    except NetnsError as exc:
        return f"network namespaces, bridges or nftables do not work here: {exc}"
    return None


def require_netns() -> None:
    """Skip the calling test (visibly) when namespaces are unusable; under ``CI=true`` fail instead.

    CI runs these tests as root, so there a missing tool is a broken pipeline, not a reason to skip.
    """
    import pytest  # noqa: PLC0415 (the harness itself is also used by benchmarks, without pytest)

    problem = netns_problem()
    if problem is None:
        return
    reason = f"{problem} -- needs root, iproute2 and nftables"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


# --- what every namespace test bed shares (Mesh here, TorNet in tests/tor) ---------------------------


def add_bridge(ns: str) -> None:
    """Make ``br0``, a Linux bridge with STP off (no learning delay), in the existing namespace ``ns``."""
    run_command(["ip", "-n", ns, "link", "add", "br0", "type", "bridge", "stp_state", "0"])
    run_command(["ip", "-n", ns, "link", "set", "br0", "up"])


def plug(ns: str, dev: str, bridge: str, port: str, address: str) -> None:
    """Cable namespace ``ns`` to ``bridge``'s ``br0``: a veth pair ``dev`` (in ``ns``, given ``address``/24)
    -- ``port`` (in ``bridge``), both ends up."""
    run_command(["ip", "-n", ns, "link", "add", dev, "type", "veth", "peer", "name", port, "netns", bridge])
    run_command(["ip", "-n", bridge, "link", "set", port, "master", "br0", "up"])
    run_command(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", dev])
    run_command(["ip", "-n", ns, "link", "set", dev, "up"])


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], grace: float, *, sig: int = signal.SIGTERM,
                   what: str = "process") -> list[str]:
    """Stop every process of ``processes`` that still runs: ``sig`` to all at once, SIGKILL to those still
    running ``grace`` seconds later, and reap them. By pid only, so nothing else on the machine is touched.

    Returns one line per process that outlived SIGKILL (``"<what> <pid> survived SIGKILL"``), for the caller's
    cleanup report; an empty list when all are gone.
    """
    live = [process for process in processes if process.poll() is None]
    for process in live:
        process.send_signal(sig)
    deadline = time.monotonic() + grace
    for process in live:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    problems = []
    for process in live:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            problems.append(f"{what} {process.pid} survived SIGKILL")
    return problems


def clean_up(created: list[str], workdir: Path | None) -> list[str]:
    """Delete the namespaces in ``created`` (last made first; each one deleted leaves the list) and
    ``workdir`` (kept when ``MESHCARE_KEEP_NETNS_LOGS`` is set); return what could not be deleted."""
    problems = []
    for name in reversed(list(created)):
        try:
            run_command(["ip", "netns", "del", name])
            created.remove(name)
        except NetnsError as exc:
            problems.append(str(exc))
    if workdir is not None and not os.environ.get("MESHCARE_KEEP_NETNS_LOGS"):
        shutil.rmtree(workdir, ignore_errors=True)
    return problems


@dataclass(frozen=True, slots=True)
class Started:
    """A process started in host ``host``, with the files that collect its output."""

    host: int
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path


class Processes:
    """The processes a test bed started in its hosts' namespaces, each with its output in two files.

    ``owner`` names the test bed in errors ("mesh", "network").
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.started: list[Started] = []

    def start(self, workdir: Path, host: int, ns: str, argv: Sequence[str],
              env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` in namespace ``ns`` (host ``host``), stdout and stderr to files in ``workdir``.

        ``ip netns exec`` execs in place, so the PID is the process's own; ``env`` is added to the inherited
        environment.
        """
        seq = len(self.started) + 1
        out = workdir / f"h{host}-{seq}.out"
        err = workdir / f"h{host}-{seq}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdin=subprocess.DEVNULL,
                                       stdout=stdout, stderr=stderr, env={**os.environ, **(env or {})})
        self.started.append(Started(host, process, out, err))
        return process

    def find(self, process: subprocess.Popen[bytes]) -> Started:
        for started in self.started:
            if started.process is process:
                return started
        raise ValueError(f"process {process.pid} was not started by this {self.owner}")

    def output(self, process: subprocess.Popen[bytes]) -> tuple[str, str]:
        """What ``process`` wrote so far: (stdout, stderr)."""
        started = self.find(process)
        return (started.stdout.read_text(errors="replace"), started.stderr.read_text(errors="replace"))

    def kill(self, host: int, sig: int = signal.SIGTERM) -> list[int]:
        """Send ``sig`` to every process started in ``host`` that still runs; return their PIDs."""
        pids = []
        for started in self.started:
            if started.host == host and started.process.poll() is None:
                started.process.send_signal(sig)
                pids.append(started.process.pid)
        return pids

    def stop(self, grace: float) -> list[str]:
        """Stop every process still running (see ``stop_processes``); return what survived."""
        return stop_processes((started.process for started in self.started), grace)


# --- the mesh --------------------------------------------------------------------------------------


class Mesh:
    """n hosts on one bridge, each in its own network namespace; a context manager that cleans up."""

    def __init__(self, n: int, prefix: str = "mc") -> None:
        if not 1 <= n <= MAX_HOSTS:
            raise ValueError(f"a mesh has 1..{MAX_HOSTS} hosts, not {n}")
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"prefix {prefix!r}: a letter then up to 11 letters, digits or _")
        self.n = n
        self.name = f"{prefix}-{secrets.token_hex(3)}"
        self.bridge = f"{self.name}-br"
        self._created: list[str] = []
        self._processes = Processes("mesh")
        self._dir: Path | None = None

    # --- naming ---

    def ns(self, i: int) -> str:
        """The namespace of host ``i`` (1-based)."""
        self._check_host(i)
        return f"{self.name}-h{i}"

    def addr(self, i: int) -> str:
        """Host ``i``'s address on the mesh."""
        self._check_host(i)
        return f"{SUBNET}.{i}"

    def port(self, i: int) -> str:
        """The bridge port (in the bridge namespace) that host ``i`` is plugged into."""
        self._check_host(i)
        return f"p{i}"

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace this mesh created and has not deleted yet."""
        return tuple(self._created)

    @property
    def workdir(self) -> Path:
        """Where process output goes (deleted on exit)."""
        if self._dir is None:
            raise RuntimeError("the mesh is not running; use 'with Mesh(n) as mesh:'")
        return self._dir

    # --- lifecycle ---

    def __enter__(self) -> Mesh:
        self._dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        try:
            self._build()
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        problems = self._teardown()
        if problems and exc is None:
            raise NetnsError("cleanup failed: " + "; ".join(problems))

    def _build(self) -> None:
        self._add_namespace(self.bridge)
        add_bridge(self.bridge)
        for i in range(1, self.n + 1):
            ns = self.ns(i)
            self._add_namespace(ns)
            plug(ns, "eth0", self.bridge, self.port(i), self.addr(i))
            run_command(["ip", "-n", ns, "link", "set", "lo", "up"])

    def _add_namespace(self, name: str) -> None:
        run_command(["ip", "netns", "add", name])
        self._created.append(name)

    def _teardown(self) -> list[str]:
        """Stop our processes, delete our namespaces and files; return what could not be cleaned."""
        problems = self._processes.stop(STOP_GRACE)
        return problems + clean_up(self._created, self._dir)

    # --- processes ---

    def run(self, i: int, argv: Sequence[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside host ``i``; stdout/stderr go to files (see ``output``).

        ``env`` is added to the inherited environment. The returned PID is the process's own.
        """
        return self._processes.start(self.workdir, i, self.ns(i), argv, env)

    def output(self, process: subprocess.Popen[bytes]) -> tuple[str, str]:
        """What ``process`` wrote so far: (stdout, stderr)."""
        return self._processes.output(process)

    def check_output(self, i: int, argv: Sequence[str], timeout: float = 10.0) -> str:
        """Run ``argv`` inside host ``i`` to completion and return its stdout; ``NetnsError`` if it fails."""
        try:
            done = subprocess.run(["ip", "netns", "exec", self.ns(i), *argv], capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise NetnsError(f"{' '.join(argv)} in {self.ns(i)} timed out after {timeout} s") from exc
        if done.returncode != 0:
            raise NetnsError(f"{' '.join(argv)} in {self.ns(i)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def kill(self, i: int, sig: int = signal.SIGTERM) -> list[int]:
        """Send ``sig`` to every process we started in host ``i`` that still runs; return their PIDs."""
        self._check_host(i)
        return self._processes.kill(i, sig)

    # --- faults ---

    def loss(self, percent: float) -> None:
        """Drop ``percent`` % of the frames the switch forwards (0.01 % resolution); replaces earlier loss."""
        if not 0 <= percent <= 100:
            raise ValueError(f"loss must be 0..100 %, not {percent}")
        threshold = round(percent * 100)
        self._nft("meshloss", "lossy", 0, [f"numgen random mod 10000 < {threshold} counter drop"])

    def clear_loss(self) -> None:
        """Forward every frame again."""
        self._nft("meshloss", None, 0, [])

    def partition(self, groups: Iterable[Iterable[int]]) -> None:
        """Split the LAN: hosts in different groups stop hearing each other; replaces an earlier split.

        Hosts named in no group form one more group together. A host may be in one group only.
        """
        sets = [sorted(set(g)) for g in groups]
        named = [i for g in sets for i in g]
        if len(named) != len(set(named)):
            raise ValueError(f"a host appears in two groups: {sets}")
        for i in named:
            self._check_host(i)
        rest = [i for i in range(1, self.n + 1) if i not in named]
        sets = [g for g in [*sets, rest] if g]
        rules = []
        for a in sets:
            for b in sets:
                if a is not b:
                    rules.append(f"iifname {self._ports(a)} oifname {self._ports(b)} counter drop")
        self._nft("meshpart", "split", -10, rules)

    def heal(self) -> None:
        """End a partition."""
        self._nft("meshpart", None, -10, [])

    def cut(self, i: int) -> None:
        """Pull host ``i``'s cable at the switch (its bridge port goes down)."""
        run_command(["ip", "-n", self.bridge, "link", "set", self.port(i), "down"])

    def restore(self, i: int) -> None:
        """Plug host ``i`` back in."""
        run_command(["ip", "-n", self.bridge, "link", "set", self.port(i), "up"])

    def _ports(self, hosts: Sequence[int]) -> str:
        return "{ " + ", ".join(f'"{self.port(i)}"' for i in hosts) + " }"

    def _nft(self, table: str, chain: str | None, priority: int, rules: Sequence[str]) -> None:
        """Replace bridge table ``table`` (forward hook) with ``rules``; ``chain=None`` just removes it.

        ``add`` then ``delete`` in one atomic batch is the nft idiom for "remove if present".
        """
        script = [f"add table bridge {table}", f"delete table bridge {table}"]
        if chain is not None:
            script += [f"add table bridge {table}",
                       f"add chain bridge {table} {chain} "
                       f"{{ type filter hook forward priority {priority}; policy accept; }}"]
            script += [f"add rule bridge {table} {chain} {rule}" for rule in rules]
        run_command(["ip", "netns", "exec", self.bridge, "nft", "-f", "-"], stdin="\n".join(script) + "\n")

    def nft_counters(self) -> str:
        """The bridge's nftables ruleset with counters (for test diagnostics)."""
        return run_command(["ip", "netns", "exec", self.bridge, "nft", "list", "ruleset"])

    # --- helpers ---

    def _check_host(self, i: int) -> None:
        if not 1 <= i <= self.n:
            raise ValueError(f"host {i} is not in this mesh (1..{self.n})")
