"""What the launcher, the setup app and the demo may import: the demo's neighbours speak only the control
API, the setup app holds no key (the launcher passes in the function that makes one), and `meshcare` with
a command that does not start anything loads none of it (checked in source, lazy imports included, and by
loading each module in a fresh interpreter)."""

from __future__ import annotations

import pytest

from tests.test_layering import CORE, FORBIDDEN, _loaded, _meshcare_imports

CONTROL_API = ("meshcare.control", "meshcare.vocab", "meshcare.errors", "meshcare.text")
ALLOWED = {
    # the neighbours and the narrator: typed control records, and the constants of the demo's nodes
    "meshcare.demo.script": (*CONTROL_API, "meshcare.demo.nodes"),
    "meshcare.demo.narrate": CONTROL_API,
    "meshcare.demo.runner": (*CONTROL_API, "meshcare.client", "meshcare.demo"),
    "meshcare.demo.cli": (*CONTROL_API, "meshcare.demo"),
    "meshcare.demo.nodes": (*CONTROL_API, "meshcare.client", "meshcare.config", "meshcare.launch",
                            "meshcare.cli.launch"),
    "meshcare.launch": (*CONTROL_API, "meshcare.client", "meshcare.config"),
    "meshcare.tui.setup": ("meshcare.errors", "meshcare.vocab", "meshcare.config", "meshcare.outside_contacts"),
    "meshcare.cli.launch": (*CONTROL_API, "meshcare.config", "meshcare.cli", "meshcare.launch",
                            "meshcare.crypto.keys", "meshcare.crypto.keystore", "meshcare.transport.command",
                            "meshcare.tui.setup", "meshcare.demo"),
}


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_stay_in_their_lane(module):
    allowed = ALLOWED[module]
    bad = sorted(m for m in _meshcare_imports(module) if not any(m == a or m.startswith(a + ".") for a in allowed))
    assert not bad, f"{module} imports {bad}; it may import only {allowed}"
    own = module.rsplit(".", 1)[0] if module.startswith("meshcare.tui.") else module
    core = sorted(m for m in _loaded(module) if any(m == c or m.startswith(c + ".") for c in CORE)
                  and not m.startswith(own))
    assert not core, f"importing {module} loads {core}"


def test_outside_contacts_is_pure():
    loaded = _loaded("meshcare.outside_contacts")
    assert not [m for m in FORBIDDEN if m in loaded]
