"""``care.changed``: the generic comparison of the care folds (circles/changes.py ``_care``) and its event."""

from __future__ import annotations

from dataclasses import replace

from meshcare import vocab
from meshcare.circles import changes as ch
from meshcare.circles.registry import View
from meshcare.control import events as ev
from meshcare.ids import TopicId

TOPIC = TopicId(b"t" * 32)
A, B, C = b"a" * 32, b"b" * 32, b"c" * 32


def _view(**folds: dict[bytes, object]) -> View:
    return replace(View(0, {}, {}, {}, {}), **folds)


def test_every_care_object_is_a_field_of_the_view() -> None:
    view = _view()
    for what in vocab.CARE_OBJECTS:
        assert getattr(view, what) == {}


def test_new_updated_and_gone_are_told_per_object() -> None:
    same = ("state",)
    before = _view(gatherings={A: same, B: ("old",)}, needs={C: ("need",)})
    after = _view(gatherings={A: same, B: ("new",)}, library={C: ("note",)})
    facts = ch._care(TOPIC, before, after)
    assert set(facts) == {ch.CareChanged(TOPIC, "gatherings", B, "updated"), ch.CareChanged(TOPIC, "needs", C, "gone"),
                          ch.CareChanged(TOPIC, "library", C, "new")}


def test_an_equal_state_in_a_new_object_is_not_news() -> None:
    assert ch._care(TOPIC, _view(requests={A: ("x",)}), _view(requests={A: ("x",)})) == []


def test_the_event_names_what_changed() -> None:
    event = ev.CareChangedEvent(circle=TOPIC.hex(), what="needs", id=A.hex(), change="new")
    assert event.NAME == "care.changed" and ev.EVENTS["care.changed"] is ev.CareChangedEvent
    assert event.to_data()["what"] == "needs"
