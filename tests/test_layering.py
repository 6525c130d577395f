"""The pure layers import no I/O framework: each module is imported in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import meshcare

FORBIDDEN = ("trio", "zeroconf", "textual", "socket", "asyncio")
PURE_PACKAGES = ("meshcare.crypto", "meshcare.circles", "meshcare.sim")
PURE_MODULES = ("meshcare.wire", "meshcare.store", "meshcare.envelope", "meshcare.ranges", "meshcare.errors",
                "meshcare.ids", "meshcare.config", "meshcare.control", "meshcare.local_state", "meshcare.files")


def pure_modules() -> list[str]:
    names = [m for m in PURE_MODULES if pkgutil.find_loader(m) is not None]
    for package in PURE_PACKAGES:
        mod = __import__(package, fromlist=["_"])
        names.append(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(mod.__path__)]
    return sorted(names)


@pytest.mark.parametrize("module", pure_modules())
def test_pure_module_imports_no_io(module):
    code = (f"import sys, {module}\n"
            f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"


def test_the_list_is_not_empty():
    assert {"meshcare.wire", "meshcare.envelope", "meshcare.crypto.noise"} <= set(pure_modules())
