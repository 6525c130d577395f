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
                 "meshcare.store", "meshcare.ops", "meshcare.notify", "meshcare.recovery")
PURE_MODULES = ("meshcare.wire", "meshcare.envelope", "meshcare.ranges", "meshcare.errors", "meshcare.ids",
                "meshcare.config", "meshcare.text", "meshcare.vocab", "meshcare.node", "meshcare.node_events",
                "meshcare.backup.bundle", "meshcare.backup.fileformat",
                "meshcare.transport.tor.control_protocol")
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


# --- the faces: what a client of the daemon may import --------------------------------------------------

#: The core and the shell: a client (the TUI, the CLI's commands) reaches them only over the control socket.
CORE = ("meshcare.circles", "meshcare.sync", "meshcare.crypto", "meshcare.store", "meshcare.transport",
        "meshcare.envelope", "meshcare.node", "meshcare.node_events", "meshcare.ops", "meshcare.sim", "meshcare.tui")
#: What each client-side module may import of meshcare, at the top or inside a function (checked in its
#: source, so a lazy import cannot sneak the core in). Everything else of meshcare is off limits.
CLIENT_ALLOWED = {
    "meshcare.vocab": (),
    "meshcare.control": ("meshcare.control", "meshcare.errors", "meshcare.vocab", "meshcare.ids", "meshcare.wire"),
    "meshcare.cli.common": ("meshcare.control", "meshcare.errors", "meshcare.vocab", "meshcare.config",
                            "meshcare.text", "meshcare.client"),
    "meshcare.cli.calls": ("meshcare.control", "meshcare.errors", "meshcare.vocab", "meshcare.config",
                           "meshcare.text", "meshcare.cli"),
    "meshcare.cli.circles": ("meshcare.control", "meshcare.errors", "meshcare.vocab", "meshcare.config",
                             "meshcare.text", "meshcare.cli"),
    "meshcare.cli.watch": ("meshcare.control", "meshcare.errors", "meshcare.vocab", "meshcare.config",
                           "meshcare.text", "meshcare.cli", "meshcare.client"),
    "meshcare.cli.event_words": ("meshcare.control", "meshcare.vocab", "meshcare.cli"),
    # the composition root: its identity commands use the keystore and `daemon`/`run`/`sim` start the node,
    # each inside the command that needs it
    "meshcare.cli": ("meshcare.control", "meshcare.errors", "meshcare.vocab", "meshcare.config", "meshcare.text",
                     "meshcare.cli", "meshcare", "meshcare.crypto.keys", "meshcare.crypto.keystore",
                     "meshcare.transport.command", "meshcare.sim.cli"),
}
#: The wire framing is the control protocol's; the typed API (what the TUI is written against) needs not even that.
TYPED_API = ("meshcare.control.api", "meshcare.control.requests", "meshcare.control.results",
             "meshcare.control.events", "meshcare.control.views", "meshcare.vocab")


def _meshcare_imports(module: str) -> set[str]:
    """Every meshcare module ``module``'s source imports, anywhere in it (relative imports resolved;
    ``from p import m`` counts as m when m is a module, else as p)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base)
    return {m for m in found if m == "meshcare" or m.startswith("meshcare.")}


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _client_modules() -> list[str]:
    import meshcare.control

    control = ["meshcare.control"] + [f"meshcare.control.{i.name}" for i in pkgutil.iter_modules(meshcare.control.__path__)]
    return sorted(["meshcare.vocab", "meshcare.cli", "meshcare.cli.common", "meshcare.cli.calls",
                   "meshcare.cli.circles", "meshcare.cli.watch", "meshcare.cli.event_words", *control])


def _allowed(module: str) -> tuple[str, ...]:
    owner = module if module in CLIENT_ALLOWED else "meshcare.control"
    return CLIENT_ALLOWED[owner]


@pytest.mark.parametrize("module", _client_modules())
def test_client_modules_import_none_of_the_core(module):
    """The TUI is written against docs/control.md with meshcare.control and meshcare.vocab only; the CLI's
    commands too. Checked twice: what the source names (lazy imports included) and what loading it loads."""
    allowed = _allowed(module)
    named = _meshcare_imports(module)
    bad = sorted(m for m in named if not any(m == a or m.startswith(a + ".") for a in allowed))
    assert not bad, f"{module} imports {bad}; a client of the daemon may import only {allowed}"
    loaded = _loaded(module)
    core = sorted(m for m in loaded if any(m == c or m.startswith(c + ".") for c in CORE))
    assert not core, f"importing {module} loads {core}"


def test_the_import_check_sees_lazy_and_relative_imports():
    named = _meshcare_imports("meshcare.cli")
    assert {"meshcare.crypto.keystore", "meshcare.transport.command", "meshcare.cli.common",
            "meshcare.control.requests"} <= named
    assert "meshcare.circles.posts" in _meshcare_imports("meshcare.circles.calls")


@pytest.mark.parametrize("module", TYPED_API)
def test_the_typed_api_needs_no_framing_and_no_msgpack(module):
    loaded = _loaded(module)
    extra = sorted(m for m in loaded if m.startswith("meshcare.") and not m.startswith("meshcare.control")
                   and m not in ("meshcare.errors", "meshcare.vocab", "meshcare.ids"))
    assert not extra and "msgpack" not in loaded, f"{module} loads {extra}"
