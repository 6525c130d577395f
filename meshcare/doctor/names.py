"""The checks' names, in the order they run: what `meshcare doctor --only` accepts and the ``check`` key
of its findings. Apart from ``run`` so the CLI's parser names them without importing the checks."""

from __future__ import annotations

from typing import Final

CHECK_NAMES: Final = ("data-dir", "files", "daemon", "identity", "port", "neighbours", "multicast", "tor", "clock",
                      "disk", "service")
