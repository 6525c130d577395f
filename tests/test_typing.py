"""The package stays clean under ``mypy --strict`` (the house style promises types on the pure layers)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(300)
def test_mypy_strict():
    if shutil.which("mypy") is None and not (Path(sys.executable).parent / "mypy").exists():
        pytest.skip("mypy is not installed (it comes with the test extra: make test)")
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports", "meshcare"],
                         cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0, out.stdout[-3000:]
