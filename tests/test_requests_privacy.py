"""Privacy of private requests over real sealing (tests/circlenet.py): whatever the thread, a member who
is neither the asker nor a facilitator asked never reads any post of it, and its people all fold the
same thread."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.requests import fold_requests
from tests.circlenet import Net

FACILITATORS = ("F", "G")
NAMES = ("F", "G", "A", "B", "C")


def _net() -> Net:
    n = Net(*NAMES)
    n.create()
    n.join("G", role="facilitator")
    for name in ("A", "B", "C"):
        n.join(name)
    return n


@st.composite
def threads(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    asker = draw(st.sampled_from(NAMES))
    to = draw(st.lists(st.sampled_from([f for f in FACILITATORS if f != asker]), min_size=1, max_size=2, unique=True))
    speakers = draw(st.lists(st.sampled_from([asker, *to]), max_size=4))
    return asker, to, speakers


@settings(max_examples=20, deadline=None)
@given(threads(), st.booleans())
def test_a_member_not_asked_never_reads_a_request_or_its_thread(thread, close):
    asker, to, speakers = thread
    n = _net()
    people = {asker, *to}
    ask = n.post(asker, "request", {"to": [n.me(m) for m in to], "about": "debrief", "text": "after last night"})
    made = [ask]
    for i, who in enumerate(speakers):
        others = sorted(people - {who})
        made.append(n.post(who, "request_reply", {"to": [n.me(m) for m in others], "request": ask.id,
                                                  "text": f"message {i}"}))
    if close:
        made.append(n.post(asker, "request_close", {"to": [n.me(m) for m in to], "request": ask.id}))
    ids = {e.id for e in made}
    folds = {}
    for name in NAMES:
        circle = n.circles[name]
        read = {p.id for p in circle.posts} & ids
        folds[name] = fold_requests(circle.posts)
        if name in people:
            assert read == ids
        else:
            assert read == set() and folds[name] == {}
    (thread_state,) = {repr(folds[m]) for m in people}          # its people all see the same thread
    state = folds[asker][ask.id]
    assert len(state.replies) == len(speakers) and state.closed == close
