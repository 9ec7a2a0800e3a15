"""Events: what happened, to whom it goes, published once after commit.

    publish(Event("message.created", audiences, data, conversation_id=..., seq=...))

An event with `seq` is part of a conversation's numbered stream: the gateway delivers
those exactly once and in order to each socket. Events without it are state or ephemeral
signals (typing, receipts, conversation summaries)."""
import json
from dataclasses import dataclass, field

from django.db import transaction

from branchline.realtime import audiences


@dataclass(frozen=True)
class Event:
    type: str
    audiences: tuple[str, ...]
    data: dict = field(default_factory=dict)
    conversation_id: int | None = None
    seq: int | None = None

    def __post_init__(self):
        if self.seq is not None:
            # A number belongs to one stream: the customer's or the staff's (docs/adr/0005).
            kinds = {audiences.is_customer_audience(key) for key in self.audiences}
            if len(kinds) > 1:
                raise ValueError(f"a numbered event goes to customer or staff audiences, not both: {self.audiences}")

    def encode(self) -> bytes:
        return json.dumps(
            {"t": self.type, "a": list(self.audiences), "c": self.conversation_id, "s": self.seq, "d": self.data},
            separators=(",", ":"),
            default=str,
        ).encode()


def publish(event: Event) -> None:
    """Send `event` to its audiences once the current transaction commits (at once if
    there is none). A rolled-back action publishes nothing."""
    from branchline.realtime.bus import get_bus

    envelope = event.encode()
    transaction.on_commit(lambda: get_bus().send(envelope))
