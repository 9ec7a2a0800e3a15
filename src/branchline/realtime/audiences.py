"""The only place audiences are named.

An audience is a key the gateway maps to open sockets. Customers are only ever members
of their own `customer:` audience, so nothing published to a staff audience can reach
them."""
from branchline.accounts.permissions import staff_scope


def customer(customer_id: int) -> str:
    return f"customer:{customer_id}"


def staff(user_id: int) -> str:
    return f"staff:{user_id}"


def queue(queue_id: int, channel_id: int) -> str:
    """Staff who see what waits in a queue from a channel: its members granted the channel,
    and the whole line's supervisors, administrators and auditors (routing.selectors.queue_pairs)."""
    return f"queue:{queue_id}:{channel_id}"


def line(line_of_business_id: int) -> str:
    """Staff who see a whole line of business (supervisors, administrators, auditors): every
    state change of its conversations, for their line view."""
    return f"line:{line_of_business_id}"


def viewers(conversation_id: int) -> str:
    """Staff sockets that have the conversation open in the console (joined by a `viewing`
    frame, after a permission check): who else is here, and typing."""
    return f"viewers:{conversation_id}"


def is_viewers(key: str) -> bool:
    return key.startswith("viewers:")


def is_customer_audience(key: str) -> bool:
    return key.startswith("customer:")


def of_principal(principal, queue_pairs=frozenset()) -> tuple[str, ...]:
    """The audiences a principal's sockets join; `queue_pairs`: the (queue, channel) pairs
    whose waiting conversations a member of staff sees (read from the database when the
    socket opens, and again at each sign-in re-check)."""
    if principal.is_customer:
        return (customer(principal.id),)
    keys = [staff(principal.id)]
    if principal.line_of_business_id and staff_scope(principal).whole_line:
        keys.append(line(principal.line_of_business_id))
    keys += [queue(queue_id, channel_id) for queue_id, channel_id in sorted(queue_pairs)]
    return tuple(keys)
