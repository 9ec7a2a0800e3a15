"""The only place audiences are named.

An audience is a key the gateway maps to open sockets. Customers are only ever members
of their own `customer:` audience, so nothing published to a staff audience can reach
them."""
from branchline.accounts.permissions import staff_scope


def customer(customer_id: int) -> str:
    return f"customer:{customer_id}"


def staff(user_id: int) -> str:
    return f"staff:{user_id}"


def queue(line_of_business_id: int) -> str:
    """Staff of a line of business: who sees its waiting conversations."""
    return f"queue:{line_of_business_id}"


def line(line_of_business_id: int) -> str:
    """Staff who see a whole line of business (supervisors, administrators, auditors): every
    state change of its conversations, for their line view."""
    return f"line:{line_of_business_id}"


def is_customer_audience(key: str) -> bool:
    return key.startswith("customer:")


def of_principal(principal) -> tuple[str, ...]:
    """The audiences a principal's sockets join."""
    if principal.is_customer:
        return (customer(principal.id),)
    keys = [staff(principal.id)]
    if principal.line_of_business_id:
        keys.append(queue(principal.line_of_business_id))
        if staff_scope(principal).whole_line:
            keys.append(line(principal.line_of_business_id))
    return tuple(keys)
