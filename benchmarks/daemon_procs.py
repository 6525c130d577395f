"""Real `meshcare daemon` processes for the benchmarks, and what /proc says about any process.

Shared by bench_daemon.py and bench_oneshot.py so both start their daemons the same way: each in its
own MESHCARE_HOME, on 127.0.0.1 (any port), no discovery, static peers only, and a config.toml that
lifts the per-author budget (120 fresh envelopes per minute by default): one author publishing
thousands per second is what these benchmarks do, not an attack.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshcare.client import ControlClient  # noqa: E402

#: The plain topic every benchmark daemon joins (with --bench-ops) unless told otherwise.
SECRET = "5a" * 16
TICKS = os.sysconf("SC_CLK_TCK")
#: What a benchmark daemon allows one author: far above anything a benchmark publishes.
AUTHOR_PER_MINUTE = 10_000_000


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB (VmRSS); 0 if /proc does not say."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def config_text(sync: str = "FULL") -> str:
    """The config.toml of a benchmark daemon (see the module docstring for why the budget is lifted)."""
    return f"author_per_minute = {AUTHOR_PER_MINUTE}\nstore_synchronous = \"{sync}\"\n"


class Proc:
    """One `meshcare daemon` process, started and answering its control socket when constructed.

    ``secret``: a plain topic to join right away (needs ``bench_ops``); None joins nothing.
    ``args``: more ``meshcare daemon`` flags (``--profile small``).
    """

    def __init__(self, root: Path, name: str, peers: tuple[int, ...] = (), *, sync: str = "FULL",
                 bench_ops: bool = True, secret: str | None = SECRET, start_timeout: float = 20.0,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.name = name
        self.home = root / name
        self.env = {**os.environ, **(env or {}), "MESHCARE_HOME": str(self.home)}
        subprocess.run([sys.executable, "-m", "meshcare", "init", "--name", name], env=self.env, check=True,
                       capture_output=True)
        (self.home / "config.toml").write_text(config_text(sync))
        argv = [sys.executable, "-m", "meshcare", "daemon", "--no-discovery", "--listen", "127.0.0.1:0",
                "--log-level", "warning"]
        if bench_ops:
            argv.append("--bench-ops")
        argv += args
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        self.log_path = root / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            self._wait_up(start_timeout)
            if secret is not None:
                self.request("topic.join", secret=secret)
        except BaseException:       # also Ctrl-C or SIGTERM while it starts: nobody else holds its pid yet
            self.stop()
            raise

    def _wait_up(self, timeout: float) -> None:
        """Until the daemon answers ``status``; RuntimeError (with its log) if it exits first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.request("status")
                return
            except Exception:  # noqa: BLE001 (not up yet)
                if self.proc.poll() is not None:
                    raise RuntimeError(f"daemon {self.name} exited with {self.proc.returncode}; see {self.log_path}:\n"
                                       + self.log_path.read_text(errors="replace")[-2000:]) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        """One control request on a fresh connection (for setup and polling, not for measured work)."""
        client = ControlClient.connect(self.home / "control.sock", timeout=120)
        try:
            return client.request(op, **args)
        finally:
            client.close()

    @property
    def port(self) -> int:
        return int(self.request("status")["listen"].rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def rss_mib(self) -> float:
        return rss_kib(self.proc.pid) / 1024

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
