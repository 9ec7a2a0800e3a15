from ninja import Field, Schema


class CustomerRef(Schema):
    id: int
    name: str
    authenticated: bool


class CustomerDetail(Schema):
    label: str
    value: str


class ContactCard(Schema):
    """A contact of the bank's customer base, as staff recorded them."""

    id: int
    name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    address: str


class StaffCustomerRef(CustomerRef):
    """The customer as staff see them: with what the bank's provider says of a signed-in
    customer, as far as its claim mapping shows it (empty for guests)."""

    details: list[CustomerDetail] = Field(
        description='e.g. [{"label": "Customer number", "value": "40011872"}]')
    barred: bool = Field(description="Their messages are dropped before they reach anyone")
    contact: ContactCard | None = Field(description="The contact staff related this profile to: the customer is "
                                                    "Recognized (and `name` is the contact's); null otherwise")
