"""tests/conftest.py keeps together, on one pytest-xdist worker, the tests that must share one: those
using a module-scoped fixture (set up once, not once per worker) and the network-namespace tests."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import _group


@pytest.fixture(scope="module")
def shared() -> str:
    return "set up once for the module"


def test_a_test_using_a_module_fixture_is_grouped_by_its_file(shared: str, request: pytest.FixtureRequest) -> None:
    mark = request.node.get_closest_marker("xdist_group")
    assert mark is not None and mark.args == ("tests/test_conftest_groups.py",)


def test_a_test_using_only_its_own_fixtures_may_run_on_any_worker(tmp_path: Path,
                                                                   request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("xdist_group") is None


@pytest.mark.xdist_group("alone")
def test_a_group_written_on_the_test_is_kept(shared: str, request: pytest.FixtureRequest) -> None:
    assert [m.args for m in request.node.iter_markers("xdist_group")] == [("alone",)]


def test_every_netns_test_is_in_the_netns_group() -> None:
    here = Path(__file__).resolve().parent
    item = SimpleNamespace(path=here / "netns" / "test_new.py", nodeid="tests/netns/test_new.py::test_x")
    assert _group(item) == "netns"  # type: ignore[arg-type]  # a stand-in with the two attributes it reads


def test_every_tor_test_is_in_the_tor_group() -> None:
    here = Path(__file__).resolve().parent
    item = SimpleNamespace(path=here / "tor" / "test_new.py", nodeid="tests/tor/test_new.py::test_x")
    assert _group(item) == "tor"  # type: ignore[arg-type]  # a stand-in with the two attributes it reads
