"""The library fold: the circle's short shared texts, versioned. Pure.

Theory of operation
-------------------
A facilitator writes a text (a ``library_note`` with ``revises`` null: its id names the note for
good); an edit is a new ``library_note`` that revises that first id; a ``library_remove`` names it
too. ``fold_library`` groups the posts by note, drops duplicates, sorts by ``(lamport, id)``: the
latest version is the current text, the earlier ones are its history. Same result for any order and
any repetition of the same posts.

Rules:

* Only facilitators write, edit and remove. That is judged by the facilitators of the epoch the post
  was sealed under (sealing.py finds any other author's library post unreadable, as it does a
  member's circle check-in), so every node agrees whatever roster changes arrive later, and a text a
  facilitator wrote stays after they step down.
* A removal is final: a version folded after it (a concurrent edit) does not bring the text back.
* Posts expire with the circle's retention, and so would the library: the node of one facilitator
  re-posts a note's current version before it expires (duties.py, ``keep_library``). A re-post (the
  same title and text as the version before it) is not a new version in the history: the versions are
  the runs of equal texts, each by whoever wrote it first; ``current`` is the newest post, whose expiry
  is the note's.
* A version revising a note whose first post expired (or never reached this node) still counts: the
  note is named by its first id all the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from .posts import Post, dedupe_sorted

LIBRARY_KINDS = frozenset({"library_note", "library_remove"})


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a text: what it said, who wrote it, when."""

    id: bytes
    author: bytes
    title: str
    text: str
    created: int


@dataclass(frozen=True, slots=True)
class NoteState:
    """One text of the library: its current version and the earlier ones (oldest first)."""

    id: bytes                        # the first version's id: the note's name for good
    title: str
    text: str
    author: bytes                    # who wrote the current version
    created: int                     # when the current version was written
    lamport: int                     # of the newest post (the order of the library)
    current: bytes                   # the newest post (a re-post of the current version, maybe)
    posted: int                      # when the newest post was made (its expiry follows)
    versions: tuple[Version, ...] = ()

    @property
    def edits(self) -> int:
        """How many times it was changed after it was first written."""
        return len(self.versions) - 1


def note_key(post: Post) -> bytes | None:
    """The note a library post belongs to (None: not a library post)."""
    if post.kind == "library_note":
        revises = post.body["revises"]
        return post.id if revises is None else bytes(revises)
    if post.kind == "library_remove":
        return bytes(post.body["note"])
    return None


def fold_library(posts: Iterable[Post]) -> dict[bytes, NoteState]:
    """Every text of the library in ``posts`` that was not removed, keyed by its first id, in
    (lamport, id) order of their newest post. Never raises for bodies that came from ``validate``."""
    ordered = dedupe_sorted(p for p in posts if p.kind in LIBRARY_KINDS)
    removed = {bytes(p.body["note"]) for p in ordered if p.kind == "library_remove"}
    notes: dict[bytes, list[Post]] = {}
    for post in ordered:
        key = note_key(post)
        if post.kind == "library_note" and key is not None and key not in removed:
            notes.setdefault(key, []).append(post)
    out = []
    for key, group in notes.items():
        versions: list[Version] = []
        for post in group:
            title, text = post.body["title"], post.body["text"]
            if not versions or (versions[-1].title, versions[-1].text) != (title, text):
                versions.append(Version(post.id, post.author, title, text, post.created))
        now, newest = versions[-1], group[-1]
        out.append(NoteState(key, now.title, now.text, now.author, now.created, newest.lamport, newest.id,
                             newest.created, tuple(versions)))
    out.sort(key=lambda n: (n.lamport, n.id))
    return {n.id: n for n in out}


def by_title(notes: Iterable[NoteState], title: str) -> list[NoteState]:
    """Notes whose title is ``title`` (case and surrounding spaces aside), newest first."""
    want = title.strip().casefold()
    return sorted((n for n in notes if n.title.strip().casefold() == want), key=lambda n: (-n.lamport, n.id))


def keeper(note: NoteState, facilitators: frozenset[bytes]) -> bytes | None:
    """The one facilitator whose node keeps ``note`` alive (re-posts it before it expires): whoever
    wrote its current version, if still a facilitator, else the facilitator with the smallest id. One
    rule every node applies to the same roster, so facilitators do not all re-post at once (None: the
    circle has no facilitator)."""
    if note.author in facilitators:
        return note.author
    return min(facilitators, default=None)


def repost_at(note: NoteState, retention_days: int, expires: int | None = None) -> int:
    """When the keeper re-posts ``note``: a quarter of its newest post's life (at most two days) before
    that post expires, so a node that was off for a while still has time. ``expires``: the envelope's
    own expiry when known (the circle's retention may have changed since it was sealed), else the
    retention says."""
    end = note.posted + retention_days * 86_400 if expires is None else expires
    life = max(end - note.posted, 0)
    return end - min(2 * 86_400, life // 4)


#: Texts a facilitator may add with one command (``meshcare library edit CIRCLE --starter``) and then
#: change: plain words, no diagnoses, no advice on treatment. Title -> text.
STARTERS: Final[Mapping[str, str]] = {
    "House agreements": (
        "We listen before we suggest anything, and we give advice only when someone asks for it.\n"
        "What is shared in this circle stays in it, unless the person says otherwise.\n"
        "Anyone may say no, pass, or step back, without explaining why.\n"
        "We speak for ourselves (\"I\"), not for others.\n"
        "Nobody here calls the police, a hospital or anyone outside the circle for someone without asking "
        "them first."),
    "How we respond to a call": (
        "A call for support reaches the people the caller chose first, then more, as they asked.\n"
        "If you can help, say so with an offer (\"I can call\", \"I can come over\"); the caller accepts "
        "the one that suits them.\n"
        "When you take a call, stay with the person's wishes: what they asked for, what they asked to "
        "avoid.\n"
        "If it is too much for you, say so and hand it back: that is care too.\n"
        "Afterwards, you can ask a facilitator for a debrief."),
    "Words we use": (
        "We describe what someone is going through in their own words, not with labels.\n"
        "We say \"a hard time\", \"overwhelmed\", \"not sleeping\", rather than naming a condition.\n"
        "We don't guess at diagnoses, and we don't call anyone \"crazy\", \"dangerous\" or \"a case\".\n"
        "If you are not sure how someone wants to be talked about, ask them."),
    "Coming off medication": (
        "Some people want to reduce or stop a medication. That is their decision.\n"
        "Talk with someone you trust and, if you choose, a prescriber, about how to go about it: slowly, "
        "with a plan, and with people around you who know.\n"
        "The circle can keep you company along the way: check-ins, a walk, someone to call.\n"
        "meshcare gives no medical advice, and nobody in this circle should pressure anyone either way."),
    "Reaching outside help": (
        "Outside help (a doctor, a counsellor, a peer warmline, a lawyer, a housing service) is yours to "
        "choose.\n"
        "If you want it, people in the circle can help you find someone, go with you, or sit with you "
        "while you call.\n"
        "meshcare never contacts anyone outside the circle, and nobody here will do so for you without "
        "your OK."),
}
