"""Running the app headless against the fake daemon: one context manager, polling waits, screen text.

The project runs async tests with pytest-trio; Textual needs asyncio, so each test is a plain function
that calls ``run(scenario)`` (``asyncio.run``). Waits poll inside the running app (``pilot.pause``), never
sleep a fixed time: "pumping rather than sleeping, because the app is running" (Harlequin's tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timezone
from pathlib import Path
from typing import Any

from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from meshcare.tui.app import MeshcareApp, make_app
from meshcare.tui.prefs import Prefs
from meshcare.tui.session import Backoff

from .fakedaemon import NOW, FakeDaemon, FakeState


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario in a fresh asyncio loop."""
    asyncio.run(scenario())


@contextlib.asynccontextmanager
async def running(state: FakeState | None = None, *, size: tuple[int, int] = (100, 34),
                  prefs: Prefs | None = None, prefs_home: Path | None = None,
                  connected: bool = True) -> AsyncIterator[tuple[MeshcareApp, Pilot[int], FakeDaemon]]:
    """The app on a fake daemon, headless, with the tests' fixed clock; waits for the first snapshot."""
    where = Path(tempfile.mkdtemp(prefix="mc-tui-", dir="/tmp"))
    daemon = FakeDaemon(where / "control.sock", state)
    app = make_app(daemon.connect, home_label="test", prefs=prefs, prefs_home=prefs_home, clock=lambda: NOW,
                   backoff=Backoff(first=0.05, most=0.2), tick=None, tz=timezone.utc)
    try:
        async with app.run_test(size=size) as pilot:
            if connected:
                await wait_for(pilot, lambda: app.model.loaded, "the first snapshot")
            yield app, pilot, daemon
    finally:
        await daemon.stop()
        shutil.rmtree(where, ignore_errors=True)


async def wait_for(pilot: Pilot[Any], done: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """Let the app run until ``done()`` is true; fail after ``timeout`` seconds, saying what was awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n--- screen ---\n{screen_text(pilot.app)}")
        await pilot.pause(0.01)


def screen_text(app: Any) -> str:
    """What the screen on top shows now, as plain text (the compositor's lines)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def _plain(visual: object) -> str:
    if isinstance(visual, str):
        return Content.from_markup(visual).plain
    return str(getattr(visual, "plain", visual))


def widget_text(app: Any) -> str:
    """Everything the screen on top holds in words, scrolled out of view or not, whitespace folded (for
    text that wraps differently at different sizes)."""
    parts: list[str] = []
    for widget in app.screen.query("*"):
        if not widget.display:
            continue
        if isinstance(widget, Static):
            parts.append(_plain(widget.content))
        elif isinstance(widget, OptionList):
            parts += [_plain(option.prompt) for option in widget.options]
        elif isinstance(widget, Input):
            parts.append(widget.value)
    return " ".join(" ".join(parts).split())


async def holds(pilot: Pilot[Any], text: str, timeout: float = 5.0) -> None:
    """Wait until the screen's widgets hold ``text`` (whitespace folded, scrolled out of view or not)."""
    wanted = " ".join(text.split())
    await wait_for(pilot, lambda: wanted in widget_text(pilot.app), f"{text!r} in the screen's widgets", timeout)


def notes(app: Any) -> list[str]:
    """Every notification raised so far: "title: message"."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def shows(pilot: Pilot[Any], text: str, timeout: float = 5.0) -> None:
    """Wait until the screen shows ``text``."""
    await wait_for(pilot, lambda: text in screen_text(pilot.app), f"{text!r} on screen", timeout)


async def noted(pilot: Pilot[Any], text: str, timeout: float = 5.0) -> None:
    """Wait until a notification holds ``text``."""
    await wait_for(pilot, lambda: any(text in n for n in notes(pilot.app)), f"a notification with {text!r}", timeout)
