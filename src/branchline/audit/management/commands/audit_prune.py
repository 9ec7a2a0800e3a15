"""manage.py audit_prune: apply the audit trail's retention now (the server processes also
do it every AUDIT_PRUNE_EVERY_SECONDS). Deletes the records older than the retention an
administrator set, in batches, each recorded in the trail as `audit.pruned`; does nothing
while the retention is "for ever"."""
from django.core.management.base import BaseCommand

from branchline.audit.actions import audit_prune_all


class Command(BaseCommand):
    help = "Prune the audit trail's records older than its retention (recording the pruning in the trail)."

    def handle(self, *args, **options):
        self.stdout.write(f"pruned {audit_prune_all()} audit records")
