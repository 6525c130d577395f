"""The pure layers import no I/O framework, and the two halves of the core stay apart.

Each module is imported in a fresh interpreter and ``sys.modules`` is inspected: what a module drags in
is what a Pi pays for at start, and what a test of the core must not need.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

FORBIDDEN = ("trio", "zeroconf", "textual", "socket", "asyncio", "sqlite3")
PURE_PACKAGES = ("meshcare.crypto", "meshcare.circles", "meshcare.sync", "meshcare.sim", "meshcare.control",
                 "meshcare.store", "meshcare.ops")
PURE_MODULES = ("meshcare.wire", "meshcare.envelope", "meshcare.ranges", "meshcare.errors", "meshcare.ids",
                "meshcare.config", "meshcare.text", "meshcare.vocab", "meshcare.node", "meshcare.node_events")
#: the one store that is a file, and the factory that picks it
SQLITE_ALLOWED = ("meshcare.store.sqlite", "meshcare.store.factory")
#: the circles domain and the topic sync engine never import each other; only the Node joins them
APART = {"meshcare.circles": "meshcare.sync", "meshcare.sync": "meshcare.circles"}


def pure_modules() -> list[str]:
    names = [m for m in PURE_MODULES if pkgutil.find_loader(m) is not None]
    for package in PURE_PACKAGES:
        mod = __import__(package, fromlist=["_"])
        names.append(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(mod.__path__)]
    return sorted(names)


def _loaded(module: str) -> set[str]:
    code = f"import sys, {module}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.parametrize("module", pure_modules())
def test_pure_module_imports_no_io(module):
    loaded = _loaded(module)
    forbidden = [m for m in FORBIDDEN if not (m == "sqlite3" and module in SQLITE_ALLOWED)]
    bad = [m for m in forbidden if m in loaded]
    assert not bad, f"{module} pulls in {bad}"
    for half, other in APART.items():
        if module == half or module.startswith(half + "."):
            strays = sorted(m for m in loaded if m == other or m.startswith(other + "."))
            assert not strays, f"{module} imports {strays}: the domain and the sync engine meet only in Node"


def test_the_list_is_not_empty():
    assert {"meshcare.wire", "meshcare.envelope", "meshcare.crypto.noise", "meshcare.sync.engine",
            "meshcare.store"} <= set(pure_modules())
