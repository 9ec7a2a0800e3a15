from ninja import Field, Schema


class CustomerRef(Schema):
    id: int
    name: str
    authenticated: bool


class CustomerDetail(Schema):
    label: str
    value: str


class StaffCustomerRef(CustomerRef):
    """The customer as staff see them: with what the bank's provider says of a signed-in
    customer, as far as its claim mapping shows it (empty for guests)."""

    details: list[CustomerDetail] = Field(
        description='e.g. [{"label": "Customer number", "value": "40011872"}]')
    barred: bool = Field(description="Their messages are dropped before they reach anyone")
