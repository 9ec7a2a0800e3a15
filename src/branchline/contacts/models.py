from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


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
