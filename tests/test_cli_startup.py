"""`meshcare --help` stays fast: it loads none of the control API's records, no trio and no Textual.

The CLI parses its flags before any command runs, so whatever its modules import at their top is paid by
every command, `--help` included (docs/benchmarks.md, section 14, has the times). Each command imports the
records it sends inside its function; this test keeps a top-level import from coming back silently. One
interpreter start per case (about 0.3 s each).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("meshcare.control.requests", "meshcare.control.results", "meshcare.control.views", "meshcare.control.api",
         "meshcare.client", "trio", "textual", "nacl", "zeroconf")

PROBE = """
import json, sys
from meshcare.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by(*argv: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=list(argv))], capture_output=True, text=True,
                         timeout=60)
    modules: list[str] = json.loads(out.stderr.strip().splitlines()[-1])
    return set(modules)


@pytest.mark.parametrize("argv", [("--help",), ("status", "--help"), ("call", "--help"), ("daemon", "--help")])
def test_help_loads_nothing_heavy(argv: tuple[str, ...]) -> None:
    loaded = loaded_by(*argv)
    assert "meshcare.cli" in loaded
    assert not {m for m in loaded for heavy in HEAVY if m == heavy or m.startswith(heavy + ".")}, sorted(
        m for m in loaded if m.startswith(HEAVY))
