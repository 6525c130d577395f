"""The first-run setup app (Pilot, headless at 80x24): name required, passphrase twice, the plain words
that meshcare is not an emergency service, outside contacts kept 0600, the identity created."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from meshcare import outside_contacts
from meshcare.cli.launch import create_identity
from meshcare.config import Settings
from meshcare.crypto import keystore
from meshcare.tui import setup
from meshcare.tui.setup import SetupApp

pytestmark = pytest.mark.timeout(60)


def on_asyncio(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Textual runs on asyncio; the suite runs async tests on trio (trio_mode), so these run their own loop."""
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))
    return run


def make_app(home: Path, made: list[tuple[str, bytes | None]] | None = None) -> SetupApp:
    settings = Settings(home=home)

    def create(name: str, passphrase: bytes | None) -> str:
        if made is not None:
            made.append((name, passphrase))
        return create_identity(settings, name, passphrase)
    return SetupApp(home, create)


def text_of(app: SetupApp) -> str:
    """What the current step shows, as plain text."""
    return "\n".join(str(w.render()) for w in app.query(f"#{app.step} Static") if w.display)


def error_of(app: SetupApp) -> str:
    return str(app.query_one(f"#{app.step} .error", Static).render())


@on_asyncio
async def test_a_name_is_required(tmp_path):
    app = make_app(tmp_path / "h")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.step == "step-name" and app.focused is app.query_one("#name")
        assert "computer to computer" in text_of(app) and str(tmp_path / "h") in text_of(app)
        await pilot.press("enter")
        assert app.step == "step-name" and error_of(app) == setup.NAME_MISSING
        await pilot.press(*"   ", "enter")
        assert app.step == "step-name"
        assert app.query_one("#name", Input).value.strip() == ""  # nothing was filled in for them ($USER)
        await pilot.press(*"Ana", "enter")
        assert app.step == "step-passphrase"


@on_asyncio
async def test_passphrase_twice_must_match(tmp_path):
    app = make_app(tmp_path / "h")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"Ana", "enter", *"one", "enter", *"two", "enter")
        assert app.step == "step-passphrase" and error_of(app) == setup.PASSPHRASE_DIFFERS
        assert app.query_one("#passphrase", Input).value == app.query_one("#passphrase2", Input).value == ""
        assert app.focused is app.query_one("#passphrase")
        await pilot.press("escape")
        assert app.step == "step-name"  # Escape goes back
        await pilot.press("enter", *"same", "enter", *"same", "enter")
        assert app.step == "step-safety"


@on_asyncio
async def test_finish_creates_the_identity_and_keeps_the_contacts(tmp_path):
    home, made = tmp_path / "h", []
    app = make_app(home, made)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"Ana (3rd floor)", "enter", *"pass phrase", "enter", *"pass phrase", "enter")
        assert app.step == "step-safety"
        shown = text_of(app)
        assert "meshcare is not an emergency service." in shown
        assert "never contacts anyone outside your circle" in shown and "emergency number" in shown
        await pilot.press(*"Crisis line 0800 123 456", "enter", *"my sister Eva", "tab", "tab")
        finish = app.query_one("#finish")
        assert app.focused is finish
        region = finish.region
        assert region.bottom <= 23 and region.right <= 80  # reachable on an 80x24 screen, above the footer
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    result = app.return_value
    assert result is not None and result.name == "Ana (3rd floor)" and result.passphrase == b"pass phrase"
    assert made == [("Ana (3rd floor)", b"pass phrase")]
    name, node_id, protected = keystore.read_public(home / "identity.key")
    assert name == "Ana (3rd floor)" and protected and len(result.fingerprint.split()) == 12
    path = outside_contacts.path(home)
    assert path.stat().st_mode & 0o777 == 0o600
    assert outside_contacts.read(home) == ["Crisis line 0800 123 456", "my sister Eva"] == list(result.contacts)


@on_asyncio
async def test_without_passphrase_and_contacts(tmp_path):
    home = tmp_path / "h"
    app = make_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"Bo", "enter", "enter", "enter", "tab", "tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_value is not None and app.return_value.passphrase is None
    assert keystore.read_public(home / "identity.key")[2] is False
    assert not outside_contacts.path(home).exists()


@on_asyncio
async def test_leaving_creates_nothing(tmp_path):
    home, made = tmp_path / "h", []
    app = make_app(home, made)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"Ana", "enter", "ctrl+q")
        await pilot.pause()
    assert app.return_value is None and made == [] and not home.exists()


@on_asyncio
async def test_a_failure_is_shown_and_can_be_retried(tmp_path):
    home = tmp_path / "h"
    create_identity(Settings(home=home), "Someone", None)  # the keystore refuses to overwrite it
    app = make_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"Ana", "enter", "enter", "enter", "tab", "tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and app.step == "step-safety"
        assert "will not overwrite it" in error_of(app)


def test_check_name():
    assert setup.check_name("  Ana  ") == "Ana"
    assert setup.check_name("") is None and setup.check_name("a\x1b[31m") is None
    assert setup.check_name("x" * 65) is None and setup.check_name("x" * 64) == "x" * 64
