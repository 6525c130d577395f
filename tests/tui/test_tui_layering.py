"""The TUI is a client of the control socket only: ``tui -> control, vocab, ids, errors, text, config``
(and the person's own outside contacts, a local file)
(DESIGN.md), never trio, and its pure parts (words, model, markup) import no Textual at all."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import meshcare.tui
import meshcare.tui.screens
import meshcare.tui.widgets

from ..test_layering import _meshcare_imports

#: What a module of meshcare.tui may import of meshcare.
#: ``outside_contacts``: the person's own list in the data dir (never sent), which setup writes and help shows.
ALLOWED = ("meshcare.tui", "meshcare.control", "meshcare.vocab", "meshcare.ids", "meshcare.errors", "meshcare.text",
           "meshcare.config", "meshcare.outside_contacts")
#: Pure: no Textual, no asyncio, no sockets (tested as plain functions).
PURE = ("meshcare.tui.format", "meshcare.tui.model", "meshcare.tui.render")


def tui_modules() -> list[str]:
    names = ["meshcare.tui"]
    for package in (meshcare.tui, meshcare.tui.screens, meshcare.tui.widgets):
        names += [f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)]
    return sorted(set(names))


def _loaded(module: str) -> set[str]:
    code = f"import sys, {module}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.parametrize("module", tui_modules())
def test_the_tui_imports_only_the_client_side_of_meshcare(module: str) -> None:
    named = _meshcare_imports(module)
    bad = sorted(m for m in named if not any(m == a or m.startswith(a + ".") for a in ALLOWED))
    assert not bad, f"{module} imports {bad}; the TUI may import only {ALLOWED}"


def test_no_trio_and_no_core_comes_along() -> None:
    loaded = _loaded("meshcare.tui.app")
    assert "trio" not in loaded
    core = ("meshcare.circles", "meshcare.sync", "meshcare.crypto", "meshcare.store", "meshcare.transport",
            "meshcare.node", "meshcare.ops", "meshcare.cli")
    assert not sorted(m for m in loaded if any(m == c or m.startswith(c + ".") for c in core))


@pytest.mark.parametrize("module", PURE)
def test_the_pure_parts_import_no_textual_and_no_io(module: str) -> None:
    loaded = _loaded(module)
    assert not [m for m in ("textual", "asyncio", "socket", "trio") if m in loaded], module
