"""Shared fixtures. Hypothesis profiles: ``ci`` (more examples) when CI=true."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=120, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An isolated MESHCARE_HOME."""
    path = tmp_path / "home"
    monkeypatch.setenv("MESHCARE_HOME", str(path))
    monkeypatch.delenv("MESHCARE_PASSPHRASE_FILE", raising=False)
    return path
