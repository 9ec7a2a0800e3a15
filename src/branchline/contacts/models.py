from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Contact(models.Model):
    """A person of the bank's customer base as staff recorded them (seed 004: first and last
    name, an e-mail or a phone, optionally company and address). The profiles they write from
    (Customer rows: a guest's chat, later a messaging app's number) are related to it, and are
    then Recognized. A contact belongs to the line of business that recorded it: only its staff
    find it (conversations/actions/contacts.py)."""

    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="+")
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=200, blank=True)  # a name, copied: it outlives the user

    class Meta:
        constraints = [models.CheckConstraint(condition=~models.Q(email="", phone=""), name="contact_email_or_phone")]
        indexes = [models.Index(fields=["line_of_business", "last_name", "first_name"], name="contact_by_name")]

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self):
        return self.display_name


class Customer(models.Model):
    """A person writing to the bank.

    Authenticated customers are known by the bank's SSO (issuer + subject) and keep their
    history; anonymous ones are shown as "Customer", exist for one live conversation
    and can never be contacted afterwards."""

    is_authenticated = models.BooleanField(default=False)
    sso_issuer = models.CharField(max_length=200, blank=True)
    sso_subject = models.CharField(max_length=200, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(blank=True)
    # What the bank's provider says of an authenticated customer, as its claim mapping
    # chose to show agents: {"customer_number": {"label": "Customer number", "value": "..."}}.
    claims = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Refreshed by the socket gateway while any socket of theirs is open; anonymous
    # conversations end once it is older than the grace period.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Barred by staff (conversations/actions/contacts.py): their messages are dropped before
    # they reach anyone, and counted. The name of who barred them is copied: it outlives the user.
    barred_at = models.DateTimeField(null=True, blank=True)
    barred_by = models.CharField(max_length=200, blank=True)
    bar_reason = models.CharField(max_length=500, blank=True)
    dropped_messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sso_issuer", "sso_subject"],
                condition=models.Q(is_authenticated=True),
                name="customer_unique_sso_identity",
            )
        ]

    @property
    def display_name(self) -> str:
        if not self.is_authenticated:
            return gettext("Customer")
        return self.name or gettext("Customer")

    def __str__(self):
        return self.display_name


class CustomerContact(models.Model):
    """A profile related to a contact of one line of business (seed 004: Recognized there). Per
    line, as contacts are: another line neither sees it nor loses it when it relates the same
    profile to a contact of its own."""

    # No index of its own: the unique (customer, line) one leads with it.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_links", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="profile_links")
    line_of_business = models.ForeignKey("accounts.LineOfBusiness", on_delete=models.PROTECT, related_name="+")
    related_at = models.DateTimeField(default=timezone.now)
    related_by = models.CharField(max_length=200, blank=True)  # a name, copied: it outlives the user

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "line_of_business"],
                                               name="customer_contact_per_line")]
