"""This process's map from audiences to open sockets, and the fan-out of bus envelopes."""
import json
import logging
from collections import defaultdict

from . import audiences
from .connection import Connection

log = logging.getLogger(__name__)

# Published by accounts.actions when a sign-in ends, to that principal's audience: not a
# frame to forward but an order to close the sockets of that sign-in (by digest).
SESSION_ENDED = "session.ended"


class Registry:
    def __init__(self):
        self.by_audience: dict[str, set[Connection]] = defaultdict(set)
        self.connections: set[Connection] = set()
        self.by_address: dict[str, int] = {}  # open sockets per client address, hello or not

    def add(self, connection: Connection) -> None:
        """Register an open socket in its audiences (`connection.audiences`, set by the gateway)."""
        self.connections.add(connection)
        for key in connection.audiences:
            self.by_audience[key].add(connection)

    def remove(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self._leave(connection, connection.audiences)

    def _leave(self, connection: Connection, keys) -> None:
        for key in keys:
            members = self.by_audience.get(key)
            if members is not None:
                members.discard(connection)
                if not members:
                    del self.by_audience[key]

    def join(self, connection: Connection, key: str) -> None:
        """Add one audience to an open socket (a conversation it has open)."""
        if connection in self.connections and key not in connection.audiences:
            connection.audiences = (*connection.audiences, key)
            self.by_audience[key].add(connection)

    @staticmethod
    def open_count(connection: Connection) -> int:
        """How many conversations the socket has open (its viewers audiences)."""
        return sum(1 for key in connection.audiences if audiences.is_viewers(key))

    def leave(self, connection: Connection, key: str) -> None:
        if key in connection.audiences:
            connection.audiences = tuple(k for k in connection.audiences if k != key)
            self._leave(connection, (key,))

    def move(self, connection: Connection, keys: tuple[str, ...]) -> bool:
        """The socket's audiences become `keys` (a member of staff's queues or channels
        changed); True if they changed."""
        if connection not in self.connections or set(keys) == set(connection.audiences):
            return False
        self._leave(connection, set(connection.audiences) - set(keys))
        connection.audiences = keys
        for key in keys:
            self.by_audience[key].add(connection)
        return True

    def address_opened(self, address: str) -> int:
        """Count a socket opened from `address`; return how many are open from it now."""
        count = self.by_address[address] = self.by_address.get(address, 0) + 1
        return count

    def address_closed(self, address: str) -> None:
        count = self.by_address.pop(address) - 1
        if count:
            self.by_address[address] = count

    def sockets_of(self, principal) -> int:
        """Open sockets of this customer or member of staff (their own audience's)."""
        return len(self.by_audience.get(audiences.of_principal(principal)[0], ()))

    def has_customer(self, customer_id: int) -> bool:
        return bool(self.by_audience.get(audiences.customer(customer_id)))

    def connected_customer_ids(self) -> set[int]:
        return {c.principal.id for c in self.connections if c.principal.is_customer}

    def connected_staff_ids(self) -> set[int]:
        return {c.principal.id for c in self.connections if c.principal.is_staff}

    def deliver(self, envelope: bytes) -> None:
        """Runs on the event loop for every envelope the bus brings: decode once, encode
        the frame once, queue it on each local socket (no awaiting per socket)."""
        try:
            event = json.loads(envelope)
            targets: set[Connection] = set()
            for key in event["a"]:
                members = self.by_audience.get(key)
                if members:
                    targets.update(members)
            if not targets:
                return
            if event["t"] == SESSION_ENDED:
                for connection in targets:
                    if connection.session == event["d"]["session"]:
                        connection.signed_out()
                return
            frame = json.dumps({"type": event["t"], **event["d"]}, separators=(",", ":"))
            conversation_id, seq = event.get("c"), event.get("s")
        except (ValueError, KeyError, TypeError):
            log.exception("dropping a malformed bus envelope")
            return
        for connection in targets:
            connection.offer(conversation_id, seq, frame)

    async def resync_all(self) -> None:
        """After a bus outage: every socket fills its gaps from the database and its
        client is told to refresh anything that is not numbered (lists, states)."""
        for connection in list(self.connections):
            connection.send_event("session.resync")
            connection.start_sync()


registry = Registry()
