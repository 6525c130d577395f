"""The two nodes of bench_tui: real daemons on loopback in one circle, and the times events arrive.

``Pair`` starts ``ann`` (whose TUI is measured) and ``bob`` (who posts the calls) as ``daemon_procs.Proc``
processes: their own MESHCARE_HOME under the run's temporary directory, ``--listen 127.0.0.1:0``,
``--no-discovery``, bob with ann as his only static ``--peer``, and the per-author budget lifted in
config.toml (a benchmark posts a call and its resolve every few hundred ms, far above the 120 fresh
envelopes a minute a person gets). ann founds the circle and invites bob, who joins with the token,
as two households would. Setup talks to the daemons like the CLI, one request per connection; the
calls go over one connection kept open to bob's daemon, so no connect is in the loop.

``Stamps`` is a subscriber on ann's control socket in a thread of its own: it notes when each event
arrived (``time.monotonic``, the clock the screen reader stamps with too), keyed by what it names. It
is a second subscriber beside the TUI, so ann's daemon encodes every event twice; that is part of
what the figures measure, and docs/benchmarks.md says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from daemon_procs import Proc
from meshcare.client import ControlClient
from meshcare.errors import MeshcareError

CIRCLE = "Elm St"
#: Seconds a setup step may take before the benchmark gives up on it.
SETUP_TIMEOUT = 30.0


def wait_until(predicate: Callable[[], object], what: str, timeout: float = SETUP_TIMEOUT) -> None:
    """Poll ``predicate`` every 50 ms (setup only, nothing measured). Raises RuntimeError naming ``what``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench_tui setup: timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


class Stamps:
    """When each event of ann's stream arrived: ``circle`` (a call's envelope taken in: keyed by the
    envelope id, which is the call's id), ``new`` / ``resolved`` (``call.changed``, keyed by the call)."""

    def __init__(self, node: Proc) -> None:
        self._times: dict[tuple[str, str], float] = {}
        self._cond = threading.Condition()
        self._error = ""
        self._client = ControlClient.connect(node.home / "control.sock", timeout=SETUP_TIMEOUT)
        self._me = self._client.request("status")["node_id"]
        self._client.subscribe()
        self._thread = threading.Thread(target=self._run, name="stamps", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for event in self._client.events():
                now = time.monotonic()
                data = event.data
                key: tuple[str, str] | None = None
                if event.name == "circle" and not data.get("roster") and data.get("author") != self._me:
                    key = ("circle", str(data.get("id")))
                elif event.name == "call.changed" and data.get("change") in ("new", "resolved"):
                    key = (str(data["change"]), str(data.get("call")))
                if key is not None:
                    with self._cond:
                        self._times.setdefault(key, now)
                        self._cond.notify_all()
        except MeshcareError as exc:
            with self._cond:
                self._error = str(exc)
                self._cond.notify_all()
        with self._cond:
            self._error = self._error or "the event stream ended"
            self._cond.notify_all()

    def wait(self, kind: str, ident: str, timeout: float = 10.0) -> float:
        """When the ``kind`` event about ``ident`` arrived (waiting for it up to ``timeout`` s).
        Raises RuntimeError when it does not come or the stream ended."""
        with self._cond:
            if not self._cond.wait_for(lambda: (kind, ident) in self._times or self._error, timeout):
                raise RuntimeError(f"ann's daemon sent no {kind} event for {ident[:8]} within {timeout:g} s")
            if (kind, ident) not in self._times:
                raise RuntimeError(f"ann's event stream ended: {self._error}")
            return self._times[(kind, ident)]

    def close(self) -> None:
        """Close the subscription (the thread ends with the stream)."""
        self._client.close()


class Pair:
    """ann and bob, linked and in one circle (see the module docstring). ``stop`` ends both daemons."""

    def __init__(self, root: Path) -> None:
        self.procs: list[Proc] = []
        self._bob_client: ControlClient | None = None
        try:
            self.ann = self._start(Proc(root, "ann", bench_ops=False, secret=None))
            self.bob = self._start(Proc(root, "bob", (self.ann.port,), bench_ops=False, secret=None))
            wait_until(lambda: self._links(self.ann) == 1 and self._links(self.bob) == 1, "the link ann-bob")
            self.ann.request("circle.create", name=CIRCLE)
            token = self.ann.request("circle.invite", circle=CIRCLE)["token"]
            self.bob.request("circle.join", token=token)
            wait_until(lambda: self._members(self.ann) == 2 and self._members(self.bob) == 2,
                       "bob to be admitted to the circle and both to see it")
            self._bob_client = ControlClient.connect(self.bob.home / "control.sock", timeout=SETUP_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def _start(self, proc: Proc) -> Proc:
        self.procs.append(proc)
        return proc

    @staticmethod
    def _links(proc: Proc) -> int:
        return int(proc.request("status")["links"])

    @staticmethod
    def _members(proc: Proc) -> int:
        circles = proc.request("circle.list")["circles"]
        return next((int(c["members"]) for c in circles if c["name"] == CIRCLE and c["status"] == "member"), 0)

    def call(self, text: str, urgency: str) -> str:
        """bob asks the circle for support; the call's id."""
        assert self._bob_client is not None  # set in __init__, which stops everything when it fails
        return str(self._bob_client.request("call.create", circle=CIRCLE, text=text, urgency=urgency)["call"]["id"])

    def resolve(self, call: str) -> None:
        """bob marks his call resolved."""
        assert self._bob_client is not None
        self._bob_client.request("call.resolve", call=call)

    def call_status_at_ann(self, call: str) -> str:
        """The call's status as ann's daemon shows it ("" when it does not know the call yet)."""
        try:
            return str(self.ann.request("call.show", call=call)["call"]["status"])
        except MeshcareError:
            return ""

    def stop(self) -> None:
        """Close bob's connection and stop both daemons (SIGTERM, then SIGKILL after 10 s)."""
        if self._bob_client is not None:
            self._bob_client.close()
            self._bob_client = None
        for proc in reversed(self.procs):
            proc.stop()
