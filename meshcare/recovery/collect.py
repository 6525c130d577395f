"""The new device's fold of the releases it received: which count, which are refused and why, and the
recovery key once k holders agree. Pure.

A release counts when it opens with the request's private key, its setup record is signed by the identity
it names (and that is the identity the person asked to recover, when the REQUEST named one), it came
from a holder the record names (the envelope's author: the lobby's envelopes are signed), its share has
that holder's index, the record's share set and threshold, and its sealed bundle is the one the record
names. Of several setups by the same person, only the newest counts: a share released from an older,
replaced setup is refused as superseded. Two releases by the same holder count once. With k of them
the shares are combined (any k agree, ``shamir.py``); below k nothing is combined at all.

The result depends only on the set of releases, not their order (ties broken by holder id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import BadInput, RemoteProtocolError
from . import shamir
from .records import Release, SetupRecord, check_package, open_release

#: Every reason a release is refused, in the words the status shows.
NOT_CHOSEN = "a share came from someone who was not chosen"
NOT_FOR_US = "a release that was not sealed to this request, or is damaged"
SOMEONE_ELSE = "a share for someone else's recovery"
SUPERSEDED = "a share from an older recovery setup, replaced since"


@dataclass(frozen=True, slots=True)
class Refusal:
    holder: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class Progress:
    record: SetupRecord | None                 # the setup being recovered (None: no valid release yet)
    accepted: tuple[bytes, ...]                # holders whose releases count, in share-index order
    refused: tuple[Refusal, ...]
    key: bytes | None = None                   # the recovery key, once k holders agree
    bundle: bytes | None = None                # the sealed bundle it opens

    @property
    def needed(self) -> int:
        """How many more valid releases are needed (0 once the key is known)."""
        if self.record is None:
            return 0 if self.key else -1
        return max(0, self.record.threshold - len(self.accepted))


def collect(request_private: bytes, releases: Iterable[tuple[bytes, bytes]], owner: bytes = b"") -> Progress:
    """Judge ``releases`` ((author, sealed release) pairs) received for the request whose private key is
    ``request_private``; ``owner`` is the identity the request named (b"": any, the newest setup wins)."""
    valid: dict[bytes, tuple[SetupRecord, Release]] = {}
    refused: dict[bytes, str] = {}
    for author, sealed in sorted(set(releases)):
        if author in valid:
            continue
        try:
            release = open_release(request_private, sealed)
        except RemoteProtocolError:
            refused.setdefault(author, NOT_FOR_US)
            continue
        try:
            record = check_package(author, release.share, release.bundle, release.record)
        except RemoteProtocolError as e:
            refused.setdefault(author, str(e))
            continue
        if owner and record.owner != owner:
            refused.setdefault(author, SOMEONE_ELSE)
            continue
        valid[author] = (record, release)
        refused.pop(author, None)
    if not valid:
        return Progress(None, (), _refusals(refused))
    # whose recovery: the one the request named, else the person most holders released for
    owners: dict[bytes, int] = {}
    for record, _ in valid.values():
        owners[record.owner] = owners.get(record.owner, 0) + 1
    chosen_owner = max(owners, key=lambda o: (owners[o], o))
    records = [r for r, _ in valid.values() if r.owner == chosen_owner]
    current = max(records, key=lambda r: (r.created, r.rid))
    accepted: list[tuple[int, bytes, Release]] = []
    for author, (record, release) in valid.items():
        if record.owner != chosen_owner:
            refused[author] = SOMEONE_ELSE
        elif record.rid != current.rid:
            refused[author] = SUPERSEDED
        else:
            index = current.index_of(author)
            if index is not None:               # always: check_package found the author among the holders
                accepted.append((index, author, release))
    accepted.sort(key=lambda item: item[0])
    holders = tuple(author for _, author, _ in accepted)
    if len(accepted) < current.threshold:
        return Progress(current, holders, _refusals(refused))
    chosen = accepted[: current.threshold]
    try:
        key = shamir.combine([release.share for _, _, release in chosen])
    except BadInput:
        # every share was checked against the signed record; this means the owner's setup itself is broken
        return Progress(current, holders, _refusals(refused) + (Refusal(b"", "the shares do not open the key"),))
    return Progress(current, holders, _refusals(refused), key, chosen[0][2].bundle)


def _refusals(refused: dict[bytes, str]) -> tuple[Refusal, ...]:
    return tuple(Refusal(holder, reason) for holder, reason in sorted(refused.items()))
