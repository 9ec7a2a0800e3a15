"""manage.py audit_prune: apply the audit trail's retention now (the server processes also
do it every AUDIT_PRUNE_EVERY_SECONDS). Deletes the records older than the retention an
administrator set, in batches, each recorded in the trail as `audit.pruned`; does nothing
while the retention is "for ever"."""
from django.core.management.base import BaseCommand

from branchline.audit.actions import PRUNE_BATCH, audit_prune


class Command(BaseCommand):
    help = "Prune the audit trail's records older than its retention (recording the pruning in the trail)."

    def handle(self, *args, **options):
        total = 0
        while (count := audit_prune()) > 0:
            total += count
            if count < PRUNE_BATCH:
                break
        self.stdout.write(f"pruned {total} audit records")
