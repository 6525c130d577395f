"""The circle commands of the CLI against real daemons on loopback (static peers, no mDNS), plus its pure helpers.

Three nodes share one module-scoped circle: ann founds "Elm St", bob and cat join with invite tokens through
`meshcare circle join`. The tests drive every command as a subprocess with --json and wait on conditions
(deadlines, no fixed sleeps). They run in file order: the last ones remove and leave.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshcare import vocab
from meshcare.cli import calls as cli_calls
from meshcare.cli import plans as cli_plans
from meshcare.errors import BadInput
from tests.helpers import wait_real

pytestmark = pytest.mark.timeout(120)
MESHCARE = [sys.executable, "-m", "meshcare"]
EMPTY_PLAN = dict.fromkeys(vocab.PLAN_FIELDS, "")


def meshcare(env: dict[str, str], *args: str, input: str = "") -> subprocess.CompletedProcess[str]:
    """One CLI run; stdin is never the terminal pytest runs in (so nothing asks questions)."""
    return subprocess.run([*MESHCARE, *args], env=env, capture_output=True, text=True, timeout=60, input=input)


class Node:
    """A `meshcare daemon` on 127.0.0.1 in its own MESHCARE_HOME, driven through the CLI."""

    def __init__(self, home: Path, name: str) -> None:
        self.home, self.name = home, name
        self.env = {**os.environ, "MESHCARE_HOME": str(home)}
        self.env.pop("MESHCARE_PASSPHRASE_FILE", None)
        self.proc: subprocess.Popen[bytes] | None = None
        assert meshcare(self.env, "init", "--name", name).returncode == 0

    def start(self, *peers: int) -> None:
        argv = [*MESHCARE, "daemon", "--no-discovery", "--listen", "127.0.0.1:0"]
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home / "daemon.log", "ab"))
        wait_real(lambda: meshcare(self.env, "status").returncode == 0, f"the daemon of {self.name} to start")

    @property
    def port(self) -> int:
        return int(self.json("status")["listen"].rsplit(":", 1)[1])

    def json(self, *args: str, input: str = "") -> dict[str, Any]:
        out = meshcare(self.env, *args, "--json", input=input)
        assert out.returncode == 0, f"meshcare {' '.join(args)}: {out.returncode} {out.stderr}"
        data: dict[str, Any] = json.loads(out.stdout)
        return data

    def text(self, *args: str, input: str = "") -> str:
        out = meshcare(self.env, *args, input=input)
        assert out.returncode == 0, f"meshcare {' '.join(args)}: {out.returncode} {out.stderr}"
        return out.stdout

    def fails(self, code: int, *args: str) -> str:
        out = meshcare(self.env, *args)
        assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr
        return out.stderr


@contextlib.contextmanager
def running_circle(root: Path, *names: str, circle: str = "Elm St") -> Iterator[list[Node]]:
    """Daemons for ``names`` on 127.0.0.1, each started with the ones before it as peers; the first
    founds ``circle`` and invites the others, who join. Yields once every node lists every member; the
    daemons are stopped when the block ends, whatever happened in it."""
    nodes = [Node(root / name, name) for name in names]
    try:
        ports: list[int] = []
        for node in nodes:
            node.start(*ports)
            ports.append(node.port)
        first = nodes[0]
        first.json("circle", "create", circle)
        for node in nodes[1:]:
            node.json("circle", "join", first.json("circle", "invite", circle)["token"], "--wait", "20")
        wait_real(lambda: all(len(n.json("circle", "members", circle)["members"]) == len(nodes) for n in nodes),
                  f"everyone in {circle} to see everyone")
        yield nodes
    finally:
        for node in nodes:
            if node.proc is not None:
                node.proc.kill()
                node.proc.wait(timeout=10)


class Circle:
    def __init__(self, ann: Node, bob: Node, cat: Node) -> None:
        self.ann, self.bob, self.cat = ann, bob, cat
        self.created: dict[str, Any] = {}
        self.invite: dict[str, Any] = {}
        self.joined: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {n.name: n.json("id")["node_id"] for n in (ann, bob, cat)}


@pytest.fixture(scope="module")
def elm(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("circle")
    nodes = [Node(root / name, name) for name in ("ann", "bob", "cat")]
    ann, bob, cat = nodes
    try:
        ann.start()
        bob.start(ann.port)
        cat.start(ann.port, bob.port)
        c = Circle(ann, bob, cat)
        c.created = ann.json("circle", "create", "Elm St", "--retention-days", "14")
        c.invite = ann.json("circle", "invite", "Elm St", "--qr", "--hours", "2")
        c.joined["bob"] = bob.json("circle", "join", c.invite["token"], "--wait", "20")
        token = ann.json("circle", "invite", "Elm St")["token"]
        c.joined["cat"] = cat.json("circle", "join", "-", "--name", "cat", "--wait", "20", input=token + "\n")
        yield c
    finally:
        for node in nodes:
            if node.proc is not None:
                node.proc.kill()
                node.proc.wait(timeout=10)


# --- with daemons ---------------------------------------------------------------------------------

def test_create_list_invite_and_join(elm: Circle) -> None:
    circle = elm.created["circle"]
    assert circle["name"] == "Elm St" and circle["role"] == "facilitator" and circle["status"] == "member"
    assert circle["settings"]["retention_days"] == 14
    assert elm.invite["token"].startswith("MC1") and elm.invite["role"] == "member"
    assert elm.invite["qr"].strip() and "█" in elm.invite["qr"]
    assert 2 * 3600 - 60 <= elm.invite["expires"] - time.time() <= 2 * 3600
    for name in ("bob", "cat"):
        joined = elm.joined[name]
        assert joined["status"] == "joined" and joined["circle"] == circle["id"] and joined["name"] == "Elm St"
    listed = elm.bob.json("circle", "list")["circles"]
    assert [(c["name"], c["status"], c["role"]) for c in listed] == [("Elm St", "member", "member")]
    assert "Elm St" in elm.bob.text("circle", "list")
    without_qr = elm.ann.json("circle", "invite", circle["id"][:8], "--role", "facilitator")
    assert "qr" not in without_qr and without_qr["role"] == "facilitator"
    human = elm.ann.text("circle", "invite", "Elm St")
    assert "MC1" in human and "█" not in human


def test_members_invites_and_revoke(elm: Circle) -> None:
    members = elm.ann.json("circle", "members", "Elm St")["members"]
    assert {m["name"] for m in members} == {"ann", "bob", "cat"}
    assert {m["name"]: m["role"] for m in members}["ann"] == "facilitator"
    invite = elm.ann.json("circle", "invite", "Elm St")["invite"]
    assert elm.ann.json("circle", "revoke", "Elm St", invite[:8]) == {"invite": invite, "revoked": True}
    invites = {i["invite"]: i for i in elm.ann.json("circle", "invites", "Elm St")["invites"]}
    assert invites[invite]["revoked"] is True and invites[invite]["open"] is False
    assert invites[elm.invite["invite"]]["used_by"] == elm.ids["bob"]
    assert "used by bob" in elm.ann.text("circle", "invites", "Elm St")


def test_verify_shows_fingerprints_and_confirm_marks_verified(elm: Circle) -> None:
    shown = elm.bob.json("circle", "verify", "Elm St", "ann")
    assert shown["verified"] is False and shown["member"] == elm.ids["ann"]
    assert shown["their_fingerprint"] == elm.ann.json("id")["fingerprint"]
    assert shown["my_fingerprint"] == elm.bob.json("id")["fingerprint"]
    text = elm.bob.text("circle", "verify", "Elm St", "ann")          # stdin is no terminal: only shows
    assert shown["their_fingerprint"] in text and "--confirm" in text
    assert elm.bob.json("circle", "verify", "Elm St", "ann", "--confirm")["verified"] is True
    marks = {m["name"]: m["verified"] for m in elm.bob.json("circle", "members", "Elm St")["members"]}
    assert marks == {"ann": True, "bob": False, "cat": False}
    assert "✓ verified" in elm.bob.text("circle", "members", "Elm St")
    assert elm.bob.json("circle", "verify", "Elm St", "ann", "--unverify")["verified"] is False


def test_role_makes_a_facilitator(elm: Circle) -> None:
    assert elm.ann.json("circle", "role", "Elm St", "bob", "facilitator")["role"] == "facilitator"
    wait_real(lambda: {m["name"]: m["role"] for m in elm.bob.json("circle", "members", "Elm St")["members"]}["bob"]
         == "facilitator", "bob to see his new role")
    elm.ann.json("circle", "role", "Elm St", "bob", "member")


def test_reach_off_and_on_without_tor(elm: Circle) -> None:
    """Issue 15: the choice is kept even on a node without an onion service (it says so)."""
    off = elm.cat.json("circle", "reach", "Elm St", "off")
    assert off == {"circle": elm.created["circle"]["id"], "share": False, "onion": None, "shown": None}
    assert "no onion address yet" in elm.cat.text("circle", "reach", "Elm St", "on")
    assert {m["name"]: m["onion"] for m in elm.ann.json("circle", "members", "Elm St")["members"]} == \
        {"ann": None, "bob": None, "cat": None}
    assert "no circle called 'Nowhere'" in elm.cat.fails(1, "circle", "reach", "Nowhere", "off")
    assert "invalid choice: 'maybe'" in elm.cat.fails(2, "circle", "reach", "Elm St", "maybe")


def test_call_offer_claim_accept_update_resolve(elm: Circle) -> None:
    ann, bob, cat = elm.ann, elm.bob, elm.cat
    made = cat.json("call", "Elm St", "Rough night, could someone come by?", "--urgency", "now",
                    "--need", "company", "--need", "listen", "--consent", "no-police", "--reach", "flat 3B",
                    "--ladder", "chosen:bob@0,circle@10")["call"]
    call = made["id"]
    assert made["needs"] == ["company", "listen"] and made["consent"] == ["no_police"] and made["mine"] is True
    assert made["ladder"] == [{"after": 0, "to": "chosen", "members": [elm.ids["bob"]]},
                              {"after": 10, "to": "circle", "members": []}]
    wait_real(lambda: call in [c["id"] for c in bob.json("calls")["calls"]], "the call to reach bob")
    wait_real(lambda: cat.json("call", "show", call[:8])["call"]["reached"] == 1, "bob's receipt at cat")
    shown = bob.json("call", "show", call[:8])["call"]
    assert shown["text"] == "Rough night, could someone come by?" and shown["status"] == "open"
    assert call not in [c["id"] for c in ann.json("calls")["calls"]]          # ann hears after 10 minutes
    offer = bob.json("offer", call[:8], "come-over", "in 10 minutes")
    assert offer["call"]["offers"][0]["kind"] == "come_over"
    assert bob.json("claim", call[:8])["call"]["claimer"] == elm.ids["bob"]
    wait_real(lambda: cat.json("call", "show", call)["call"]["offers"], "the offer to reach cat")
    accepted = cat.json("accept", call[:8], offer["id"][:8])["call"]
    assert accepted["offers"][0]["accepted"] is True
    bob.json("update", call[:8], "on my way")
    cat.json("plan", "edit", "--helps", "tea and a quiet room")
    cat.json("plan", "share", "--call", call[:8])
    wait_real(lambda: bob.json("call", "show", call)["call"]["plans"], "cat's plan in bob's view of the call")
    shown = bob.json("call", "show", call)["call"]
    assert shown["plans"][0]["plan"]["helps"] == "tea and a quiet room"
    assert [u["text"] for u in shown["updates"]] == ["on my way"]
    text = cat.text("call", "show", call[:8])
    assert "reached 1 of 1" in text and "I can come over" in text and "(accepted)" in text and "bob has it" in text
    resolved = cat.json("resolve", call[:8], "--followup-in", "24")["call"]
    assert resolved["status"] == "resolved"
    assert abs(resolved["followup_at"] - (time.time() + 24 * 3600)) < 60
    assert call not in [c["id"] for c in cat.json("calls")["calls"]]
    assert [c["status"] for c in cat.json("calls", "--all", "--circle", "Elm St")["calls"]] == ["resolved"]


def test_checkin_reply_and_tally(elm: Circle) -> None:
    made = elm.ann.json("checkin", "Elm St", "How is everyone this week?")["checkin"]
    checkin = made["id"]
    assert made["options"] == ["doing OK", "could use a chat", "need support now"]
    wait_real(lambda: checkin in [c["id"] for c in elm.bob.json("checkins")["checkins"]], "the check-in at bob")
    text = elm.bob.text("checkin", "reply", checkin[:8], "3", "rough week")
    assert "If you want, you can ask the circle for support now: meshcare call 'Elm St'" in text
    wait_real(lambda: elm.ann.json("checkin", "show", checkin[:8])["checkin"]["tally"]["need support now"] == 1,
         "bob's answer at ann")
    shown = elm.ann.json("checkin", "show", checkin[:8])["checkin"]
    assert shown["not_answered"] == [elm.ids["cat"]]
    assert "not answered yet: cat" in elm.ann.text("checkin", "show", checkin[:8])
    wait_real(lambda: checkin in [c["id"] for c in elm.cat.json("checkins")["checkins"]], "the check-in at cat")
    reply = elm.cat.json("checkin", "reply", checkin[:8], "doing")
    assert reply["option"] == "doing OK" and reply["suggest_call"] is False
    circle_wide = elm.ann.json("checkin", "Elm St", "Dinner on Sunday?", "--option", "yes", "--option", "no",
                               "--visibility", "circle")["checkin"]
    assert circle_wide["options"] == ["yes", "no"] and circle_wide["visibility"] == "circle"


def test_available_away_and_roster(elm: Circle) -> None:
    set_ = elm.ann.json("available", "--until", "23:59", "--cap", "2")
    assert set_["status"] == "available" and set_["cap"] == 2
    assert 0 < set_["until"] - time.time() <= 86400
    assert datetime.fromtimestamp(set_["until"]).strftime("%H:%M") == "23:59"
    assert elm.bob.json("away", "--circle", "Elm St")["status"] == "away"

    def statuses() -> dict[str, str]:
        rows = elm.ann.json("roster", "Elm St")["circles"][0]["roster"]
        return {r["name"]: r["status"] for r in rows}
    wait_real(lambda: statuses().get("bob") == "away" and statuses().get("ann") == "available", "the roster at ann")
    assert "available" in elm.ann.text("roster")


def test_plan_edit_show_share_retract(elm: Circle) -> None:
    edited = elm.bob.json("plan", "edit", "--helps", "a walk", "--avoid", "crowds", "--contact", "Eva")["plan"]
    assert {k: v for k, v in edited.items() if v} == {"helps": "a walk", "avoid": "crowds", "contact": "Eva"}
    assert elm.bob.json("plan", "edit", "--other", "dog needs feeding")["plan"]["helps"] == "a walk"
    shared = elm.bob.json("plan", "share", "--circle", "Elm St")
    shown = elm.bob.json("plan", "show")
    assert shown["plan"]["other"] == "dog needs feeding"
    assert [s["id"] for s in shown["shares"]] == [shared["share"]]
    assert elm.bob.json("plan", "retract", shared["share"][:8])["retracted"] == shared["share"]
    assert elm.bob.json("plan", "show")["shares"] == []
    err = elm.bob.fails(2, "plan", "edit")                              # no flags and no terminal
    assert err.startswith("meshcare plan edit: ") and "--helps" in err and "$EDITOR" in err


def in_terminal(env: dict[str, str], *args: str, answer: bytes = b"") -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout; type ``answer`` once it asks [y/N]."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen([*MESHCARE, *args], env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out, deadline = b"", time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if answer and b"[y/N]" in out:
                os.write(master, answer)
                answer = b""
            if select.select([master], [], [], 0.5)[0]:
                try:
                    data = os.read(master, 4096)
                except OSError:         # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
    return proc.wait(timeout=10), out.decode(errors="replace")


def test_interactive_verify_and_plan_editor(elm: Circle, tmp_path: Path) -> None:
    code, out = in_terminal(elm.cat.env, "circle", "verify", "Elm St", "ann", answer=b"y\n")
    assert code == 0 and "Do the numbers match what ann sees? [y/N]" in out and "ann is verified" in out
    assert elm.cat.json("circle", "verify", "Elm St", "ann")["verified"] is True
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\ngrep -q '^helps:' \"$1\" || exit 3\n"        # it was given the template
                      "printf 'helps: music\\navoid:\\nnoise\\n' > \"$1\"\n")
    editor.chmod(0o755)
    code, out = in_terminal({**elm.cat.env, "EDITOR": str(editor), "VISUAL": ""}, "plan", "edit")
    assert code == 0, out
    assert elm.cat.json("plan", "show")["plan"] == {**EMPTY_PLAN, "helps": "music", "avoid": "noise"}


def test_errors_name_the_problem(elm: Circle) -> None:
    assert "no circle called 'Nowhere'" in elm.ann.fails(1, "circle", "invite", "Nowhere")
    assert "no circle called" in elm.ann.fails(1, "call", "Nowhere", "hello")
    assert "MC1" in elm.ann.fails(1, "circle", "join", "hello", "--wait", "0")
    assert "no call 'abcdef12'" in elm.ann.fails(1, "call", "show", "abcdef12")
    assert elm.ann.fails(1, "call", "show", "abcdef12").startswith("meshcare call show: ")
    assert "nobody called 'zed'" in elm.ann.fails(1, "circle", "verify", "Elm St", "zed")
    assert "invalid choice: 'yesterday'" in elm.ann.fails(2, "call", "Elm St", "hi", "--urgency", "yesterday")


def test_remove_and_leave(elm: Circle) -> None:
    assert elm.ann.json("circle", "remove", "Elm St", "cat")["removed"] == elm.ids["cat"]
    wait_real(lambda: elm.cat.json("circle", "list")["circles"][0]["status"] == "removed", "cat to learn of it")
    assert "You were removed from Elm St, so you see nothing new from it." in elm.cat.text("circle", "list")
    assert elm.bob.json("circle", "leave", "Elm St")["left"] is True
    assert elm.bob.json("circle", "list")["circles"][0]["status"] == "left"
    wait_real(lambda: {m["name"] for m in elm.ann.json("circle", "members", "Elm St")["members"]} == {"ann"},
         "ann to see both gone")


# --- without daemons ------------------------------------------------------------------------------

def test_no_daemon_running_is_one_clear_line(tmp_path: Path) -> None:
    node = Node(tmp_path / "solo", "solo")
    for args in (("circle", "list"), ("call", "Elm St", "hello"), ("calls",), ("roster",), ("plan", "show")):
        err = node.fails(1, *args, "--json")
        assert "no meshcare daemon is running" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [
    ("call", "Elm St", "hi", "--urgency", "yesterday"),
    ("call", "Elm St", "hi", "--need", "money"),
    ("call", "Elm St", "hi", "--ladder", "circle@5"),
    ("offer", "abcd1234", "hug"),
    ("resolve", "abcd1234", "--followup-in", "2", "--followup-at", "2030-01-01 10:00"),
    ("resolve", "abcd1234", "--followup-at", "tomorrow"),
    ("available", "--until", "25:00"),
    ("checkin", "Elm St", "how?", "--option", "only one"),
    ("circle",),
    ("circle", "verify", "Elm St", "bob", "--confirm", "--unverify"),
    ("plan", "share"),
    ("plan", "edit"),
])
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = meshcare({**os.environ, "MESHCARE_HOME": str(tmp_path)}, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)


def test_every_command_has_help_with_an_example() -> None:
    commands = [("call",), ("call", "show"), ("calls",), ("offer",), ("claim",), ("release",), ("accept",),
                ("update",), ("resolve",), ("checkin",), ("checkin", "reply"), ("checkin", "show"), ("checkins",),
                ("available",), ("away",), ("roster",), ("plan", "edit"), ("plan", "show"), ("plan", "share"),
                ("plan", "retract"), *[("circle", c) for c in ("create", "list", "invite", "invites", "revoke",
                                                              "join", "members", "remove", "leave", "role", "verify")]]
    for command in commands:
        out = meshcare(dict(os.environ), *command, "--help")
        assert out.returncode == 0 and f"usage: meshcare {' '.join(command)}" in out.stdout, command
        assert "example:\n  meshcare " in out.stdout and "--json" in out.stdout, command


# --- pure helpers ---------------------------------------------------------------------------------

def test_parse_ladder() -> None:
    assert cli_calls.parse_ladder("chosen:ann+bob@0,facilitators@10,circle@20") == [
        {"after": 0, "to": "chosen", "members": ["ann", "bob"]},
        {"after": 10, "to": "facilitators", "members": []},
        {"after": 20, "to": "circle", "members": []}]
    assert cli_calls.parse_ladder("circle") == [{"after": 0, "to": "circle", "members": []}]
    assert cli_calls.parse_ladder(" Chosen: ann + ann @0 , circle@5") == [
        {"after": 0, "to": "chosen", "members": ["ann"]}, {"after": 5, "to": "circle", "members": []}]
    for bad, words in [("everyone@0", "cannot read"), ("circle@5", "straight away"), ("chosen@0", "names none"),
                       ("circle:ann@0", "cannot name"), ("circle@0,facilitators@0", "later"),
                       ("circle@0,facilitators", "@MINUTES"), ("circle@0,facilitators@x", "@MINUTES"),
                       ("circle@0,facilitators@2000", "one day"),
                       (",".join(f"facilitators@{i}" for i in range(6)), "at most")]:
        with pytest.raises(ValueError, match=words):
            cli_calls.parse_ladder(bad)


def test_next_occurrence_is_today_or_tomorrow() -> None:
    noon = datetime(2027, 3, 10, 12, 0).timestamp()
    assert datetime.fromtimestamp(cli_calls.next_occurrence("18:30", noon)) == datetime(2027, 3, 10, 18, 30)
    assert datetime.fromtimestamp(cli_calls.next_occurrence("9:05", noon)) == datetime(2027, 3, 11, 9, 5)
    assert datetime.fromtimestamp(cli_calls.next_occurrence("12:00", noon)) == datetime(2027, 3, 11, 12, 0)
    for bad in ("24:00", "12:60", "noon", "12", "1230"):
        with pytest.raises(ValueError, match="HH:MM"):
            cli_calls.next_occurrence(bad, noon)


def test_plan_template_round_trips_and_parses_what_people_write() -> None:
    plan = {**EMPTY_PLAN, "helps": "tea\na walk", "contact": "Eva, 0123", "other": "the dog",
            "wishes": "no police", "review_by": "2027-03-01"}
    text = cli_plans.plan_template(plan)
    assert text.startswith("#") and "helps:\ntea\na walk\n" in text
    assert "# Wishes (e.g. no police, no hospital unless I ask)\nwishes:\nno police\n" in text
    assert text.index("when_well:") < text.index("helps:") < text.index("review_by:")      # plan order
    assert cli_plans.parse_plan_text(text) == plan
    assert cli_plans.parse_plan_text(cli_plans.plan_template(None)) == EMPTY_PLAN
    written = "# mine\n\nHelps: music\n  and tea\n# not this\nAVOID:\ncrowds\n\ncontact:\n"
    assert cli_plans.parse_plan_text(written) == {**EMPTY_PLAN, "helps": "music\n  and tea", "avoid": "crowds"}
    with pytest.raises(BadInput, match="before the first heading"):
        cli_plans.parse_plan_text("just some text\nhelps: x")


def test_rewrite_argv_dispatches_two_word_commands() -> None:
    assert cli_calls.rewrite_argv(["call", "show", "abcd"]) == ["call-show", "abcd"]
    assert cli_calls.rewrite_argv(["--home", "/x", "checkin", "reply", "ab"]) == ["--home", "/x", "checkin-reply", "ab"]
    assert cli_calls.rewrite_argv(["call", "Elm St", "show"]) == ["call", "Elm St", "show"]
    assert cli_calls.rewrite_argv(["calls", "show"]) == ["calls", "show"]
    assert cli_calls.rewrite_argv([]) == []
