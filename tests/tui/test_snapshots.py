"""Snapshot tests (pytest-textual-snapshot): home and a call's screen at 80x24 and 120x40.

Deterministic by construction: the fake daemon's canned state, the tests' fixed clock, no timer, no
cursor blink. After an intended change of the look, look at the new pictures first, then run
``pytest tests/tui/test_snapshots.py --snapshot-update``.

The pictures are Textual's rendering, which a new Textual release may change by a pixel without any
change of ours. They were recorded with the Textual version in ``snapshots-textual-version.txt``; with
another one installed they skip, saying so (look, then re-record and update that file). The file sits
beside this one, not in ``__snapshots__``: syrupy takes every file there for a snapshot, and a run of the
whole suite (``make test``) failed on it as an unused one. pyproject.toml
keeps Textual within the 8.x series the app is written for.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
import tempfile
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from meshcare.tui.app import MeshcareApp
from meshcare.tui.screens.call import CallScreen
from meshcare.tui.session import Backoff

from .fakedaemon import NOW, FakeDaemon, hid
from .harness import wait_for

RECORDED_WITH = (Path(__file__).parent / "snapshots-textual-version.txt").read_text().strip()
if version("textual") != RECORDED_WITH:
    pytest.skip(f"the snapshots were recorded with Textual {RECORDED_WITH}, this is {version('textual')}: look at "
                "the new pictures, then run with --snapshot-update and update tests/tui/snapshots-textual-version.txt",
                allow_module_level=True)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


class SnapshotApp(MeshcareApp):
    """The app on a fake daemon that it stops when it closes (the snapshot plugin runs it in its own loop)."""

    def __init__(self, daemon: FakeDaemon) -> None:
        super().__init__(daemon.connect, home_label="test", clock=lambda: NOW, backoff=Backoff(0.05, 0.2), tick=None)
        self.daemon = daemon

    async def on_unmount(self) -> None:
        await self.client.close()
        await self.daemon.stop()


@pytest.fixture
def fake() -> Any:
    where = Path(tempfile.mkdtemp(prefix="mc-tui-", dir="/tmp"))
    yield FakeDaemon(where / "control.sock")
    shutil.rmtree(where, ignore_errors=True)


async def settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, MeshcareApp)
    await wait_for(pilot, lambda: app.model.loaded, "the first snapshot")
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare: Any, fake: FakeDaemon, size: tuple[int, int]) -> None:
    assert snap_compare(SnapshotApp(fake), terminal_size=size, run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_call(snap_compare: Any, fake: FakeDaemon, size: tuple[int, int]) -> None:
    async def open_call(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        app = pilot.app
        assert isinstance(app, MeshcareApp)
        app.open_call(hid("ben-call"))
        await wait_for(pilot, lambda: isinstance(app.screen, CallScreen) and app.screen.call is not None, "the call")
        await settled(pilot)
    assert snap_compare(SnapshotApp(fake), terminal_size=size, run_before=open_call)
