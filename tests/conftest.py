"""Shared fixtures. Hypothesis profiles: ``ci`` (more examples) when CI=true.

`make test` runs the suite on every core with pytest-xdist (``-n auto --dist loadgroup``). Two kinds of
tests must stay together on one worker, and ``pytest_collection_modifyitems`` below groups them, so a new
test file gets this without writing anything:

* tests that share a module- or class-scoped fixture (a circle of running daemons, say): split over two
  workers, each worker would start its own copy, and the work the fixture saves would be done twice;
* the network-namespace tests (tests/netns): they time real processes on one emulated LAN each, and two
  of them at once would contend for the same two cores and make each other's timings lie;
* the private Tor network tests (tests/tor): they share one session-scoped network (about 30 s to build),
  which a second worker would build again; their own group, so they run beside the netns group.

A test that must run apart from some other test for another reason says so with
``@pytest.mark.xdist_group("name")``: every test with that name runs on the same worker, one at a time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=120, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

_NETNS = Path(__file__).resolve().parent / "netns"
_TOR = Path(__file__).resolve().parent / "tor"
_SHARED_SCOPES = frozenset({"class", "module", "package"})


def _group(item: pytest.Item) -> str | None:
    """The xdist group ``item`` belongs in (see the module docstring), or None when it may run anywhere."""
    if _NETNS in Path(item.path).resolve().parents:
        return "netns"
    if _TOR in Path(item.path).resolve().parents:
        return "tor"
    info = getattr(item, "_fixtureinfo", None)  # pytest's own record of the fixtures an item uses
    defs = getattr(info, "name2fixturedefs", {})
    if any(d.scope in _SHARED_SCOPES for chain in defs.values() for d in chain):
        return item.nodeid.split("::", 1)[0]   # its file: one worker sets the shared fixture up once
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks (under --dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that must share a worker with ``xdist_group`` (a no-op without pytest-xdist)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None and (group := _group(item)) is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An isolated MESHCARE_HOME."""
    path = tmp_path / "home"
    monkeypatch.setenv("MESHCARE_HOME", str(path))
    monkeypatch.delenv("MESHCARE_PASSPHRASE_FILE", raising=False)
    return path
