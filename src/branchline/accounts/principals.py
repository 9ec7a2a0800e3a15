"""Who is acting: a customer (bearer token) or a member of staff (session)."""
from dataclasses import dataclass

from .models import User


@dataclass(frozen=True)
class Principal:
    kind: str  # "customer" | "staff" | "integration" (a technical account's token)
    id: int
    line_of_business_id: int | None = None
    role: str | None = None
    authenticated_customer: bool = False
    display_name: str = ""
    address: str = ""  # the client's address, for the audit trail

    @property
    def is_customer(self) -> bool:
        return self.kind == "customer"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @classmethod
    def of_customer(cls, customer, *, address: str = "") -> "Principal":
        return cls("customer", customer.id, authenticated_customer=customer.is_authenticated,
                   display_name=customer.display_name, address=address)

    @classmethod
    def of_staff(cls, user: User, *, address: str = "") -> "Principal":
        return cls("staff", user.id, user.line_of_business_id, user.role, display_name=user.display_name,
                   address=address)

    @classmethod
    def of_token(cls, token, *, address: str = "") -> "Principal":
        """An integration calling with a technical account's token: neither customer nor
        staff, so no conversation action lets it in; only integration endpoints do."""
        return cls("integration", token.id, token.owner.line_of_business_id, display_name=token.name,
                   address=address)
