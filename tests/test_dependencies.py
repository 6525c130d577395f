"""Nothing in meshcare's runtime dependency tree may need a C or Rust build on a 32-bit Raspberry Pi.

Walks ``Requires-Dist`` from meshcare (pyproject's ``dependencies``, no extras) through the installed
distributions, and requires each to be a pure-Python wheel (``Root-Is-Purelib: true``, tags ``*-none-any``),
except the allow-list below, each with its reason: what Debian ships (a Zero 2 W takes it from apt, in a
``--system-site-packages`` venv: docs/raspberry-pi.md), or a documented pure-Python fallback. A new
dependency with compiled parts fails here until someone decides how a Pi gets it. Budget: well under 1 s.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

ALLOWED_COMPILED = {
    # Debian 12 / Raspberry Pi OS Bookworm: python3-nacl 1.5.0 (pyproject's lower bound is 1.5 for it)
    "pynacl": "Debian's python3-nacl",
    # python3-msgpack 1.0.3 (the lower bound is 1.0.3 for it)
    "msgpack": "Debian's python3-msgpack",
    # PyNaCl's FFI; python3-cffi (with python3-cffi-backend), so pip does not fetch a newer cffi to build
    "cffi": "Debian's python3-cffi",
    # zeroconf's build_ext.py builds its Cython modules optionally: a failed build is caught and the
    # package runs as pure Python (SKIP_CYTHON=1 skips the attempt); piwheels has armv7 wheels besides
    "zeroconf": "optional Cython; pure-Python fallback",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _roots() -> list[Requirement]:
    """meshcare's own requirements: this checkout's pyproject (what the next install will ask for)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]]


def _applies(req: Requirement) -> bool:
    return req.marker is None or req.marker.evaluate({**default_environment(), "extra": ""})


def runtime_tree() -> dict[str, metadata.Distribution]:
    """Every installed distribution meshcare needs at run time, by canonical name."""
    found: dict[str, metadata.Distribution] = {}
    todo = [r for r in _roots() if _applies(r)]
    while todo:
        req = todo.pop()
        key = canonical(req.name)
        if key in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{req.name} (needed by meshcare) is not installed: pip install -e .") from None
        found[key] = dist
        todo += [r for r in (Requirement(s) for s in dist.requires or []) if _applies(r)]
    return found


def is_pure(dist: metadata.Distribution) -> bool:
    """A pure-Python wheel by its WHEEL file; without one (a Debian or source install), no compiled file."""
    wheel = dist.read_text("WHEEL")
    if wheel is not None:
        lines = wheel.splitlines()
        tags = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]
        return "Root-Is-Purelib: true" in lines and bool(tags) and all(t.endswith("-none-any") for t in tags)
    return not any(str(f).endswith((".so", ".pyd")) for f in dist.files or [])


def test_the_runtime_tree_is_pure_python_but_for_the_allowed():
    tree = runtime_tree()
    assert {"trio", "pynacl", "zeroconf", "msgpack", "textual", "platformdirs", "segno"} <= set(tree)
    compiled = sorted(name for name, dist in tree.items() if not is_pure(dist) and name not in ALLOWED_COMPILED)
    assert compiled == [], (f"{compiled} need a C or Rust build where no wheel exists (a 32-bit Pi): take them "
                            "out, or add them to ALLOWED_COMPILED with how a Pi gets them (docs/raspberry-pi.md)")


def test_pure_and_compiled_are_told_apart():
    assert is_pure(metadata.distribution("trio"))
    assert not is_pure(metadata.distribution("msgpack"))     # a compiled wheel here, or Debian's .so


def test_the_allow_list_holds_only_what_meshcare_uses():
    """A dependency that was dropped leaves the allow-list too (no standing exceptions)."""
    assert set(ALLOWED_COMPILED) <= set(runtime_tree())
