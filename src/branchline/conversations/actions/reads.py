"""Who read which customer's data (the audit trail records reads, not only changes)."""
from django.conf import settings

from branchline.accounts.principals import Principal
from branchline.core import ratelimit
from branchline.events import Actor, publish

from ..events import CustomerDataRead


def customer_data_read(*, principal: Principal, customer_id: int, conversation_id: int, what: str) -> None:
    """Record that a member of staff read a customer's data, at most once per reader,
    customer and kind per READ_AUDIT_SECONDS (a console paging through a history reads many
    pages a minute; the trail needs the fact, not every page). While the shared cache is
    away every read is recorded. Customers reading their own data are not recorded."""
    if not principal.is_staff:
        return
    seconds = settings.BRANCHLINE["READ_AUDIT_SECONDS"]
    if ratelimit.within(f"read:{principal.id}:{customer_id}:{what}", seconds):
        publish(CustomerDataRead(actor=Actor.of(principal), customer_id=customer_id, conversation_id=conversation_id,
                                 what=what))
