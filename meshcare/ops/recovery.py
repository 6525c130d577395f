"""The social-recovery ops (``recovery.*``): set up, see, request, collect, release. Pure.

The owner's node builds the backup bundle (``meshcare.backup.bundle``), seals it with a fresh recovery
key (``meshcare.backup.fileformat.seal_with_key``) and posts one share to each holder
(``meshcare/recovery/records.py`` tells the whole flow). A holder's node releases into the lobby of a
new device's request; the new device's node collects and, once k shares count, opens the bundle and
hands it to the client, which stops the daemon and restores it (the daemon cannot replace its own
identity while it runs: ``meshcare recovery request --status`` does it, docs/backup-and-recovery.md).
"""

from __future__ import annotations

from typing import Final

from .. import envelope as env
from ..control import requests_recovery as rq
from ..control import results_recovery as rs
from ..crypto.seal import random_key, x25519_public_of
from ..errors import BadInput, NotFound, RemoteProtocolError
from ..ids import TopicId
from ..node import Node
from ..node_events import Effect, PeerDiscovered, SaveState
from ..ranges import KEY_MAX, KEY_MIN
from ..recovery import collect as cl
from ..recovery import shamir
from ..recovery.lobby import SERVE_FOR, RecoveryLobby
from ..recovery.records import (Held, RecoveryRequest, SetupRecord, fingerprint, parse_request, read_record,
                                seal_release, sign_record)
from ..circles.state import Requesting
from .. import vocab
from .common import linked, member_of, post, publish, validated

#: Requests a holder's node serves at once (each is a lobby topic it syncs for a day).
MAX_SERVING: Final = 16
#: Releases a new device reads from its lobby (honest ones are at most 10; the rest is noise, bounded by
#: what its peers may push: each is one sealed box to open).
MAX_RELEASES: Final = 256


# --- the owner ---------------------------------------------------------------------------------------


def recovery_setup(node: Node, req: rq.RecoverySetup, now: float) -> tuple[rs.RecoverySetupResult, list[Effect]]:
    """Seal the current bundle with a new key, split it, and post each holder their share."""
    from ..backup.bundle import Bundle
    from ..backup.fileformat import seal_with_key
    circle = node.registry.find(req.circle)
    me = node.registry.me
    if circle.roster.role(me) not in ("member", "facilitator"):
        raise BadInput("this node must be a member of that circle to set up recovery through it")
    holders: list[bytes] = []
    for ref in req.members:
        member = member_of(circle, ref)
        if member == me:
            raise BadInput("you cannot hold a share of your own recovery; choose other members")
        if circle.roster.role(member) == "relay":
            raise BadInput("a relay cannot hold a share (it has no way to read one); choose people")
        if member in holders:
            raise BadInput(f"{ref!r} is named twice")
        holders.append(member)
    if not shamir.MIN_THRESHOLD <= req.threshold <= len(holders):
        raise BadInput(f"the threshold must be from 2 to the number of holders ({len(holders)})")
    replaced = _own_record(node)
    # a new setup is always newer than the one it replaces (holders keep the newest by this clock)
    t = max(int(now), replaced.created + 1) if replaced is not None else int(now)
    names = {bytes(c.topic): c.roster.name for c in node.registry.circles.values()}
    bundle = Bundle.from_state(node.identity, node.state, t, names).to_bytes()
    key = random_key(node.registry.random_bytes)
    sealed = seal_with_key(bundle, key)
    if len(sealed) > vocab.MAX_RECOVERY_BUNDLE:
        raise BadInput(f"your backup is {len(sealed)} bytes sealed; social recovery carries at most "
                       f"{vocab.MAX_RECOVERY_BUNDLE}. Use `meshcare backup export` instead")
    shares = shamir.split(key, req.threshold, len(holders))
    set_id = shamir.info(shares[0]).identifier
    rid = node.registry.random_bytes(16)
    member_names = [(h, circle.roster.members[h].name) for h in holders]
    record = sign_record(node.identity, rid, req.threshold, member_names, set_id, sealed, t)
    bodies = [validated("recovery_share", {"to": [h], "share": shares[i], "bundle": sealed,
                                           "record": record.encode()}) for i, h in enumerate(holders)]
    node.state.own_setup = (record.encode(), bytes(circle.topic))
    effects: list[Effect] = [SaveState(node.state)]
    ids = []
    for body in bodies:
        e, more = post(node, circle, "recovery_share", body, now)
        ids.append(e.id.hex())
        effects += more
    return rs.RecoverySetupResult(setup=_setup_view(node, record, bytes(circle.topic)), posts=tuple(ids),
                                  replaced=replaced.rid.hex() if replaced else None,
                                  linked=linked(node, circle)), effects


def recovery_status(node: Node, req: rq.RecoveryStatus, now: float) -> tuple[rs.RecoveryStatusResult, list[Effect]]:
    t = int(now)
    own = _own_record(node)
    holding = []
    for owner, held in sorted(node.state.held.items()):
        try:
            record = read_record(held.record)
        except RemoteProtocolError:
            continue
        holding.append(rs.Holding(owner=owner.hex(), name=record.name, rid=record.rid.hex(),
                                  threshold=record.threshold, holders=len(record.holders), created=record.created,
                                  received=held.received))
    serving = sum(1 for _, until in node.state.released.values() if until > t)
    setup = _setup_view(node, own, node.state.own_setup[1]) if own and node.state.own_setup else None
    return rs.RecoveryStatusResult(setup=setup, holding=tuple(holding), serving=serving,
                                   requesting=node.state.requesting is not None), []


def _own_record(node: Node) -> SetupRecord | None:
    if node.state.own_setup is None:
        return None
    try:
        return read_record(node.state.own_setup[0])
    except RemoteProtocolError:
        return None


def _setup_view(node: Node, record: SetupRecord, circle_topic: bytes) -> rs.OwnSetup:
    circle = node.registry.circles.get(TopicId(circle_topic))
    return rs.OwnSetup(rid=record.rid.hex(), circle=circle_topic.hex(),
                       circle_name=circle.roster.name if circle is not None else None,
                       threshold=record.threshold, created=record.created,
                       holders=tuple(rs.Holder(id=h.hex(), name=n) for h, n in record.holders))


# --- the new device ------------------------------------------------------------------------------------


def recovery_request(node: Node, req: rq.RecoveryRequest,
                     now: float) -> tuple[rs.RecoveryRequestResult, list[Effect]]:
    """Make (or show again) this device's request; the node then serves its lobby."""
    if node.registry.circles:
        raise BadInput("this node is already in a circle: recovery replaces its identity. Run the new "
                       "device's recovery in a fresh data dir (`meshcare --home DIR daemon`)")
    owner = b""
    if req.owner is not None:
        try:
            owner = bytes.fromhex(req.owner)
        except ValueError:
            raise BadInput("the owner is an identity of 64 hex digits (`meshcare id` showed it)") from None
    effects: list[Effect] = []
    requesting = node.state.requesting
    if requesting is None or req.new:
        requesting = Requesting(random_key(node.registry.random_bytes), owner,
                                req.name if req.name is not None else node.identity.name, int(now))
        node.state.requesting = requesting
        effects.append(SaveState(node.state))
        effects += node.topics_changed(now)
    code = _request_of(node, requesting)
    return rs.RecoveryRequestResult(request=code.encode(), fingerprint=code.fingerprint,
                                    lobby=RecoveryLobby(code.key).topic.hex(), created=requesting.since), effects


def _request_of(node: Node, requesting: Requesting) -> RecoveryRequest:
    return RecoveryRequest(x25519_public_of(requesting.private), requesting.owner, requesting.name, node.hints)


def recovery_collect(node: Node, req: rq.RecoveryCollect,
                     now: float) -> tuple[rs.RecoveryCollectResult, list[Effect]]:
    """Judge what arrived in this device's lobby; with k valid shares, open and check the bundle."""
    from ..backup.bundle import Bundle
    from ..backup.fileformat import open_file
    requesting = node.state.requesting
    if requesting is None:
        raise NotFound("this device has no recovery request; `meshcare recovery request` makes one")
    code = _request_of(node, requesting)
    lobby = RecoveryLobby(code.key)
    keys = node.store.keys(lobby.topic, KEY_MIN, KEY_MAX, int(now))[:MAX_RELEASES]
    releases = []
    for raw in node.store.get_many([k.id for k in keys]):
        try:
            e = env.decode(raw)
            releases.append((bytes(e.author), lobby.read(e)))
        except RemoteProtocolError:
            continue
    progress = cl.collect(requesting.private, releases, requesting.owner)
    bundle_hex = None
    if progress.key is not None and progress.bundle is not None and progress.record is not None:
        try:
            data = open_file(progress.bundle, key=progress.key)
            bundle = Bundle.from_bytes(data)
        except BadInput as e:
            raise BadInput(f"the holders' shares opened the recovery key, but the backup does not open with it "
                           f"({e}); the setup is broken: ask the holders to check `meshcare recovery status`") from None
        if bytes(bundle.identity().node_id) != progress.record.owner:
            raise BadInput("the backup the shares opened is of another identity than the one that signed the "
                           "setup; nothing was restored")
        bundle_hex = data.hex()
    return rs.RecoveryCollectResult(progress=_progress_view(code, progress), bundle=bundle_hex), []


def _progress_view(code: RecoveryRequest, progress: cl.Progress) -> rs.Progress:
    record = progress.record
    names = dict(record.holders) if record is not None else {}
    return rs.Progress(
        request=code.encode(), fingerprint=code.fingerprint,
        owner=record.owner.hex() if record else None, name=record.name if record else None,
        threshold=record.threshold if record else None,
        released=tuple(rs.Holder(id=h.hex(), name=names.get(h, "?")) for h in progress.accepted),
        needed=progress.needed if record else None,
        refused=tuple(rs.Refused(holder=r.holder.hex() if r.holder else None, reason=r.reason)
                      for r in progress.refused),
        complete=progress.key is not None)


# --- the holder ----------------------------------------------------------------------------------------


def recovery_release(node: Node, req: rq.RecoveryRelease,
                     now: float) -> tuple[rs.RecoveryReleaseResult, list[Effect]]:
    """Release the share held for the request's owner into its lobby (or, ``check_only``, say whose)."""
    code = parse_request(req.request)
    owner, held = _held_for(node, code, req.owner)
    record = read_record(held.record, fault=BadInput)
    t = int(now)
    lobby = RecoveryLobby(code.key)
    already = node.state.released.get(code.key)
    if req.check_only:
        return _released(owner, record, code, None, already[1] if already else None, None), []
    if already is not None and already[1] > t:
        return _released(owner, record, code, b"", already[1], _linked(node, lobby)), []
    if sum(1 for _, until in node.state.released.values() if until > t) >= MAX_SERVING:
        raise BadInput(f"this node already serves {MAX_SERVING} recovery requests; try again tomorrow")
    sealed = seal_release(code.key, held, node.registry.random_bytes)
    e = lobby.release(node.identity, sealed, t, node.registry.random_bytes)
    node.state.released = {k: v for k, v in node.state.released.items() if v[1] > t}
    node.state.released[code.key] = (owner, t + SERVE_FOR)
    effects: list[Effect] = [SaveState(node.state)]
    effects += publish(node, [(lobby.topic, e)], now)
    for hint in code.hints:
        host, _, port = hint.rpartition(":")
        if host and port.isdigit():
            address = (host.strip("[]"), int(port))
            if address not in node.known:
                effects += node.handle(PeerDiscovered(address, "recovery"), now)
    return _released(owner, record, code, e.id, t + SERVE_FOR, _linked(node, lobby)), effects


def _released(owner: bytes, record: SetupRecord, code: RecoveryRequest, envelope: bytes | None, until: int | None,
              linked_now: int | None) -> rs.RecoveryReleaseResult:
    """The answer: ``envelope`` None (only checked), b"" (released before) or the release's id."""
    return rs.RecoveryReleaseResult(owner=owner.hex(), name=record.name, fingerprint=code.fingerprint,
                                    released=envelope is not None, id=envelope.hex() if envelope else None,
                                    until=until, linked=linked_now)


def _held_for(node: Node, code: RecoveryRequest, ref: str | None) -> tuple[bytes, Held]:
    held = node.state.held
    if ref is not None:
        found = [o for o in held if o.hex().startswith(ref.lower())]
    elif code.owner:
        found = [code.owner] if code.owner in held else []
    else:
        found = [o for o, h in held.items() if _name_of(h).casefold() == code.name.casefold()]
    if not found:
        who = f"{code.name!r}" if code.name else "the person it names"
        raise NotFound(f"this node holds no recovery share for {who}; `meshcare recovery status` lists the "
                       "shares it holds")
    if len(found) > 1:
        raise NotFound("this node holds shares for several people of that name; name them with --owner "
                       "(the start of their identity, from `meshcare recovery status`)")
    return found[0], held[found[0]]


def _name_of(held: Held) -> str:
    try:
        return read_record(held.record).name
    except RemoteProtocolError:
        return ""


def _linked(node: Node, lobby: RecoveryLobby) -> int:
    engine = node.engine
    return sum(1 for peer in engine.linked_peers if lobby.topic in engine.shared_topics(peer))

