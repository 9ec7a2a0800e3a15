"""Domain events: typed facts each app's actions publish, and one explicit table of who
hears them (`branchline/subscriptions.py`, named by settings.BRANCHLINE_SUBSCRIPTIONS the way
ROOT_URLCONF names the URLs, so this package imports no app above it).

    publish(ConversationAccepted(actor=Actor.of(principal), conversation_id=...))

Called inside the action's transaction, `publish`:
- enqueues one task per *durable* subscriber in that same transaction. The task row
  commits or rolls back with the change itself: an outbox, so a process killed after the
  commit still delivers the event once a worker runs (tests/test_outbox.py);
- runs the *inline* subscribers after commit (delivery to sockets: fast, in order, and
  never holding the action up). A rolled-back action publishes nothing."""
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any, Callable, ClassVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a customer, a member of staff, or the system (a sweep)."""

    kind: str  # "customer" | "staff" | "system"
    id: int | None = None
    name: str = ""
    address: str = ""

    @classmethod
    def of(cls, principal) -> "Actor":
        if principal is None:
            return SYSTEM
        return cls(principal.kind, principal.id, principal.display_name, principal.address)


SYSTEM = Actor("system")


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every domain event. Subclasses are frozen dataclasses named in the past
    tense; `name` is their stable identifier (in the audit trail and task payloads)."""

    name: ClassVar[str]
    # The object the event is about, for the audit trail: ("conversation", 12).
    subject_type: ClassVar[str] = ""
    # Fields that describe the event but are not part of its durable record (live objects
    # for inline subscribers, e.g. the message just stored).
    transient: ClassVar[frozenset[str]] = frozenset()

    actor: Actor = SYSTEM
    occurred_at: datetime = field(default_factory=timezone.now)

    @property
    def subject_id(self):
        return getattr(self, f"{self.subject_type}_id", None)

    def record(self) -> dict[str, Any]:
        """The event as JSON-able data: what durable subscribers (tasks) receive."""
        data = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in self.transient and f.name not in ("actor", "occurred_at")}
        return {
            "event_id": uuid.uuid4().hex,
            "event": self.name,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": {"kind": self.actor.kind, "id": self.actor.id, "name": self.actor.name,
                      "address": self.actor.address},
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "data": data,
        }


@dataclass(frozen=True)
class Subscriptions:
    """The table: event class -> inline subscribers (callables taking the event, run after
    commit) and durable ones (django.tasks tasks taking `event.record()`)."""

    inline: dict[type, tuple[Callable, ...]]
    durable: dict[type, tuple[Any, ...]]

    def _lookup(self, table, event_type):
        found = []
        for klass in event_type.__mro__:  # a subscriber of a base class hears its subclasses
            found.extend(table.get(klass, ()))
        return found

    def for_event(self, event_type) -> tuple[list, list]:
        return self._lookup(self.inline, event_type), self._lookup(self.durable, event_type)


@cache
def subscriptions() -> Subscriptions:
    return import_string(settings.BRANCHLINE_SUBSCRIPTIONS)


_routes: dict[type, tuple[list, list]] = {}  # event class -> its subscribers (the table is fixed)


def _subscribers(event_type) -> tuple[list, list]:
    routes = _routes.get(event_type)
    if routes is None:
        routes = _routes[event_type] = subscriptions().for_event(event_type)
    return routes


def has_durable_subscribers(event_type) -> bool:
    """Whether publishing this event must happen inside the transaction of the change it
    reports (its tasks are the outbox)."""
    return bool(_subscribers(event_type)[1])


def publish(event: DomainEvent) -> None:
    inline, durable = _subscribers(type(event))
    if durable:
        record = event.record()
        for task in durable:
            task.enqueue(record)  # inside the caller's transaction: the outbox
    for subscriber in inline:
        transaction.on_commit(lambda subscriber=subscriber: subscriber(event))
