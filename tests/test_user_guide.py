"""The user guide (docs/user-guide.md) and its pictures (docs/screenshots.py).

Why: a guide drifts from its app quietly. These tests make the drift loud where it matters most to a
reader at a hard moment: every key the guide tells someone to press is one the app has, the contract
keys are all explained, every picture it embeds is one the renderer makes, and the renderer still runs
against the real screens and draws the words the guide talks about.
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import key_to_character
from textual.widgets import Button, Checkbox, Input, RadioSet, Select, TextArea

from meshcare.errors import BadInput
from meshcare.tui.app import MeshcareApp
from meshcare.tui.screens import help as help_screen
from meshcare.tui.screens.availability import AvailabilityDialog
from meshcare.tui.screens.board import BoardScreen, NewNeedDialog
from meshcare.tui.screens.call import CallScreen, ResolveDialog
from meshcare.tui.screens.checkins import CheckinsScreen, NewCheckinDialog
from meshcare.tui.screens.circle import CircleScreen, InviteDialog
from meshcare.tui.screens.dialogs import (ChoiceDialog, ConfirmDialog, OfferDialog, ReplyDialog, TextDialog,
                                         VerifyDialog)
from meshcare.tui.screens.home import HomeScreen
from meshcare.tui.screens.invite import QRScreen
from meshcare.tui.screens.new_call import NewCallScreen
from meshcare.tui.screens.node import NodeScreen
from meshcare.tui.screens.plan import PlanScreen
from meshcare.tui.screens.settings import SettingsScreen
from meshcare.tui.setup import SetupApp
from meshcare.tui.screens.gatherings import GatheringScreen, GatheringsScreen, NewGatheringScreen
from meshcare.tui.widgets.lists import KeptList

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "user-guide.md"
#: The keys issue 12 makes a contract (scripts and checks use them): the guide must explain each.
CONTRACT_KEYS = ("n", "c", "o", "r", "a", "?", "q", "Enter", "Escape")
NAMED_KEYS = {"Enter", "Escape", "Tab", "Delete", "Backspace", "Space", "Up", "Down", "Left", "Right", "Home", "End",
              "PageUp", "PageDown", "Insert", *(f"F{i}" for i in range(1, 13))}
#: Everything a person can have in focus in the app: its bindings are the keys it answers to.
BOUND = (MeshcareApp, SetupApp, HomeScreen, CallScreen, NewCallScreen, CheckinsScreen, CircleScreen, PlanScreen,
         NodeScreen, SettingsScreen, help_screen.HelpScreen, OfferDialog, ReplyDialog, ConfirmDialog, TextDialog,
         VerifyDialog, NewCheckinDialog, InviteDialog, QRScreen, ChoiceDialog, AvailabilityDialog, ResolveDialog,
         KeptList, Input, TextArea, Button, RadioSet, Checkbox, Select, VerticalScroll,
         GatheringsScreen, GatheringScreen, NewGatheringScreen, BoardScreen, NewNeedDialog)


def load_renderer() -> ModuleType:
    """docs/screenshots.py, imported from its path (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("meshcare_docs_screenshots", ROOT / "docs" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


shots = load_renderer()


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def svg_lines(svg: str) -> list[str]:
    """The terminal lines an SVG screenshot shows, as text (Textual writes one <text> per styled run)."""
    lines: dict[int, list[str]] = {}
    for line, body in re.findall(r'<text [^>]*clip-path="url\(#terminal-\d+-line-(\d+)\)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(int(line), []).append(html.unescape(body).replace("\xa0", " "))
    return ["".join(parts) for _, parts in sorted(lines.items())]


# --- the keys -------------------------------------------------------------------------------------


def display_names(key: str) -> set[str]:
    """How a person writes a Textual key spec ("question_mark", "ctrl+s", "L", "delete,ctrl+d")."""
    names: set[str] = set()
    for part in (p.strip() for p in key.split(",")):
        *mods, name = part.split("+")
        if len(name) == 1:
            shown = name.upper() if mods else name
            if name.isupper():
                names.add(f"Shift+{name}")
        else:
            char = key_to_character(name)
            shown = char if char and len(char) == 1 and char.isprintable() and not char.isspace() else {
                "pageup": "PageUp", "pagedown": "PageDown"}.get(name, name.capitalize())
        names.add("+".join([*(m.capitalize() for m in mods), shown]))
    return names


def app_keys() -> set[str]:
    """Every key the app binds (its screens, dialogs and the widgets in them) or its help lists."""
    keys = display_names(MeshcareApp.COMMAND_PALETTE_BINDING)
    for cls in BOUND:
        for base in cls.__mro__:
            for binding in vars(base).get("BINDINGS", ()):
                keys |= display_names(binding.key if isinstance(binding, Binding) else binding[0])
    for _, entries in help_screen.KEYS:
        for key, _ in entries:
            first, sep, last = key.partition(" to ")
            keys |= {str(i) for i in range(int(first), int(last) + 1)} if sep else {key}
    return keys


def is_key(token: str) -> bool:
    """Whether a code span names a key: one character, a named key, or a modifier with a key."""
    return (len(token) == 1 and token.isprintable() and not token.isspace()) or token in NAMED_KEYS \
        or re.fullmatch(r"(Ctrl|Shift|Alt)\+\S+", token) is not None


def keys_named(text: str) -> set[str]:
    """The code spans of the guide that name keys (code blocks left out: they hold commands)."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return {span for span in re.findall(r"`([^`\n]+)`", prose) if is_key(span)}


def test_display_names_follow_textual_key_specs() -> None:
    assert display_names("question_mark") == {"?"}
    assert display_names("ctrl+s") == {"Ctrl+S"}
    assert display_names("L") == {"L", "Shift+L"}
    assert display_names("escape,question_mark,q") == {"Escape", "?", "q"}
    assert display_names("delete") == {"Delete"}
    assert display_names("shift+tab") == {"Shift+Tab"}


def test_every_key_the_guide_names_is_one_the_app_has() -> None:
    named = keys_named(guide())
    assert {"n", "Ctrl+S", "Shift+L", "1", "6"} <= named  # the parsing finds keys at all
    missing = sorted(named - app_keys())
    assert not missing, f"the guide names keys the app does not bind: {missing}"


def test_the_guide_explains_every_contract_key() -> None:
    named = keys_named(guide())
    assert [k for k in CONTRACT_KEYS if k not in named] == []


def test_a_key_that_is_not_bound_would_be_caught() -> None:
    assert keys_named("press `F9` or `F8`, then `meshcare stop`") - app_keys() == {"F9", "F8"}
    assert keys_named("```sh\nmake run\n```\n`x` and `make run`") == {"x"}


# --- the pictures and the words ---------------------------------------------------------------------


def test_every_picture_is_embedded_once_and_is_committed() -> None:
    embedded = re.findall(r"\]\(screenshots/([\w-]+)\.svg\)", guide())
    names = [s.name for s in shots.SHOTS]
    assert sorted(embedded) == sorted(names)
    assert [n for n in names if not (ROOT / "docs" / "screenshots" / f"{n}.svg").is_file()] == []


def test_every_link_inside_the_guide_reaches_a_heading() -> None:
    text = guide()
    slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
             for h in re.findall(r"^#+ (.+)$", text, re.M)}
    links = re.findall(r"\]\(#([\w-]+)\)", text)
    assert len(links) > 10
    assert sorted(set(links) - slugs) == []


def test_the_guide_uses_plain_words() -> None:
    found = re.findall(r"\bpatients?\b|\bcases?\b|crisis management|diagnos\w*|\bsymptoms?\b", guide(), re.I)
    assert found == []


def test_readme_and_cli_reference_link_the_guide() -> None:
    assert "(docs/user-guide.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(user-guide.md)" in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def test_the_renderer_draws_the_real_screens_the_same_each_time(tmp_path: Path) -> None:
    first = shots.render(["home", "setup-safety"], tmp_path / "a")
    assert [p.name for p in first] == ["home.svg", "setup-safety.svg"]
    home = "\n".join(svg_lines(first[0].read_text(encoding="utf-8")))
    for words in ("linked to 2 neighbours", "Calls for support", "needs someone",
                  "reached 2 of 3, waiting on Dan", "Check-ins waiting for your answer", "Your circles"):
        assert words in home
    assert "meshcare is not an emergency service." in "\n".join(svg_lines(first[1].read_text(encoding="utf-8")))
    again = shots.render(["home"], tmp_path / "b")
    assert again[0].read_bytes() == first[0].read_bytes()


def test_an_unknown_picture_is_refused_with_the_way_to_list_them(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="--list"):
        shots.render(["nope"], tmp_path)
    assert not list(tmp_path.iterdir())


def test_sizes_are_columns_by_rows_from_80x24_up() -> None:
    assert shots.parse_size("100x30") == (100, 30)
    assert shots.parse_size("80X24") == (80, 24)
    for bad in ("79x24", "100", "axb", "100x23"):
        with pytest.raises(Exception, match="80x24|COLUMNSxROWS"):
            shots.parse_size(bad)


def test_list_names_every_picture(capsys: pytest.CaptureFixture[str]) -> None:
    assert shots.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(s.name in out for s in shots.SHOTS)
    assert shots.main(["nope"]) == 2
    assert "no picture called nope" in capsys.readouterr().err
