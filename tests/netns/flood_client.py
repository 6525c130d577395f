"""A modified client: publish on a topic back to back through a daemon's control socket until SIGTERM.

``python -m tests.netns.flood_client SOCKET SECRET BATCH`` (run by ``flood.Flooder``, in a process of its
own so the flood does not compete for the measuring process's interpreter lock). On SIGTERM it finishes
the request in flight and prints one JSON line: ``{"published": envelopes, "requests": n, "seconds": s}``.
Exit status 1 with a message when the daemon refuses or goes away.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from meshcare.client import ControlClient
from meshcare.errors import MeshcareError


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[2].isdigit():
        print("usage: python -m tests.netns.flood_client SOCKET SECRET BATCH", file=sys.stderr)
        return 2
    path, secret, batch = Path(argv[0]), argv[1], int(argv[2])
    halted = False

    def halt(signum: int, frame: FrameType | None) -> None:
        nonlocal halted
        halted = True

    signal.signal(signal.SIGTERM, halt)
    published = requests = 0
    started = time.monotonic()
    try:
        with ControlClient.connect(path, timeout=60) as client:
            while not halted:
                client.request("topic.publish", secret=secret, text=f"flood {requests}", count=batch)
                requests += 1
                published += batch
    except MeshcareError as exc:
        print(f"flood_client: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"published": published, "requests": requests,
                      "seconds": round(time.monotonic() - started, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
