"""manage.py audit_verify: walk the audit trail's hash chain and say where it breaks.

Exit status 0 when every record is where the chain says and unchanged, 1 otherwise (with
one line per finding), so a scheduler or a security officer's script can act on it."""
from django.core.management.base import BaseCommand, CommandError

from branchline.audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain: edited, inserted or deleted records are reported."

    def add_arguments(self, parser):
        parser.add_argument("--expect-seq", type=int, help="a record the SIEM holds (its seq) ...")
        parser.add_argument("--expect-hash", help="... and its hash: it must still be in the chain, unchanged")

    def handle(self, *args, expect_seq=None, expect_hash=None, **options):
        if (expect_seq is None) != (expect_hash is None):
            raise CommandError("give --expect-seq and --expect-hash together")
        checked, findings = verify_chain(expect=(expect_seq, expect_hash) if expect_seq is not None else None)
        if findings:
            for finding in findings:
                self.stderr.write(str(finding))
            raise CommandError(f"the audit trail does not verify: {len(findings)} finding(s) in {checked} records")
        self.stdout.write(f"the audit trail verifies: {checked} records, chain intact")
