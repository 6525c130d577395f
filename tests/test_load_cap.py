"""Responders at their load cap are skipped, not pinged (issue 13, item 2): a chosen ladder step leaves
out a member who is available with a cap and already holds that many calls, when the call or its
escalation is sealed; a step to the whole circle still reaches them, and the call's view says ``busy``
on their node so it does not notify them (notify/rules.py)."""

from __future__ import annotations

from meshcare.circles import presence as pr
from tests.test_registry import Mesh, T


def _circle_with_busy_bob() -> Mesh:
    mesh = Mesh("F", "A", "B")
    mesh.found("F", T)
    for name in ("A", "B"):
        mesh.join(name, "F", T)
    mesh.post("B", "presence", {"status": "available", "until": T + 7200, "cap": 1}, T)
    other = mesh.post("F", "call", {"text": "a lift to the clinic"}, T + 1,
                      audience=mesh["F"].call_audience(mesh.circle("F"), [{"after": 0, "to": "circle", "members": []}],
                                                       0, T + 1))
    mesh.post("B", "claim", {"call": other.id}, T + 2)
    return mesh


def test_a_chosen_step_skips_a_member_at_their_cap() -> None:
    mesh = _circle_with_busy_bob()
    a = mesh["A"]
    view = a.view(mesh.circle("A"))
    assert pr.full_of(a.presence(mesh.circle("A"), T + 3), view.calls, {mesh.me("B"), mesh.me("F")}) == {mesh.me("B")}
    chosen = [{"after": 0, "to": "chosen", "members": [mesh.me("B"), mesh.me("F")]}]
    assert a.call_audience(mesh.circle("A"), chosen, 0, T + 3) == {mesh.me("A"), mesh.me("F")}
    everyone = [{"after": 0, "to": "circle", "members": []}]
    assert mesh.me("B") in a.call_audience(mesh.circle("A"), everyone, 0, T + 3)      # readable, not pinged


def test_after_the_cap_ends_they_are_asked_again() -> None:
    mesh = _circle_with_busy_bob()
    a = mesh["A"]
    chosen = [{"after": 0, "to": "chosen", "members": [mesh.me("B")]}]
    assert mesh.me("B") in a.call_audience(mesh.circle("A"), chosen, 0, T + 7201)      # the cap ran out
