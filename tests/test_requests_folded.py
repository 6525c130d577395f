"""circles/folded.py keeps the private-request and library folds up to date post by post: what it shows
is exactly what folding every post again shows, through arrivals and departures (expiry)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.folded import Folded
from meshcare.circles.library import fold_library
from meshcare.circles.posts import Post
from meshcare.circles.requests import fold_requests

from . import test_library_fold, test_requests_fold


@settings(max_examples=60, deadline=None)
@given(test_requests_fold.threads(), test_library_fold.histories(), st.data())
def test_post_by_post_is_folding_everything(threads: list[Post], notes: list[Post], data: st.DataObject) -> None:
    pending = [*threads, *notes]
    held: dict[bytes, Post] = {}
    folded = Folded()
    for step in range(data.draw(st.integers(1, 12))):
        changed: list[tuple[bytes, Post | None]] = []
        for _ in range(data.draw(st.integers(0, 4))):
            if data.draw(st.booleans()) and pending:
                post = pending.pop(data.draw(st.integers(0, len(pending) - 1)))
                held[post.id] = post
                changed.append((post.id, post))
            elif held:
                gone = data.draw(st.sampled_from(sorted(held)))
                del held[gone]
                changed.append((gone, None))
        everything = data.draw(st.booleans()) if step else True
        folded.catch_up(None if everything else changed, list(held.values()), step, frozenset(), frozenset())
        want_requests, want_library = fold_requests(held.values()), fold_library(held.values())
        assert folded.requests.result == want_requests and list(folded.requests.result) == list(want_requests)
        assert folded.library.result == want_library and list(folded.library.result) == list(want_library)
