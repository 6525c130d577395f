"""The package passes mypy with the project's own configuration (pyproject ``[tool.mypy]``: strict, and
the msgpack stub in ``stubs/``), and nothing else: no extra flags here, so this test and ``mypy meshcare``
at the command line give the same answer."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_project_config_asks_for_strict():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config.get("strict") is True
    assert "ignore_missing_imports" not in config


@pytest.mark.timeout(300)
def test_mypy_with_the_project_config():
    if shutil.which("mypy") is None and not (Path(sys.executable).parent / "mypy").exists():
        pytest.skip("mypy is not installed (it comes with the test extra: make test)")
    out = subprocess.run([sys.executable, "-m", "mypy", "meshcare"],
                         cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0, out.stdout[-3000:]
