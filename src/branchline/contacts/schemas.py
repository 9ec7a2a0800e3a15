from ninja import Schema


class CustomerRef(Schema):
    id: int
    name: str
    authenticated: bool
