"""manage.py audit_export: the audit trail as JSON lines for a SIEM, from a seq on.

Each line is one record, its chain fields included (seq, prev_hash, hash): a SIEM that keeps
them holds the chain outside this database, which anchors it (docs/adr/0012). Run it on a
schedule with --after the last seq the SIEM has; it prints nothing but records on stdout.

    manage.py audit_export --after 1200 >> /var/log/branchline/audit.jsonl
    manage.py audit_export --after 1200 --output /var/log/branchline/audit-$(date +%F).jsonl"""
import json
import sys

from django.core.management.base import BaseCommand

from branchline.audit.selectors import records_after, retention_state


class Command(BaseCommand):
    help = "Write the audit trail as JSON lines (one record per line), from the record after --after."

    def add_arguments(self, parser):
        parser.add_argument("--after", type=int, default=0, help="the last seq already exported (0: from the start)")
        parser.add_argument("--output", help="append to this file instead of writing to stdout")

    def handle(self, *args, after: int, output: str | None, **options):
        pruned_through = retention_state()["pruned_through_seq"]
        if after < pruned_through:
            self.stderr.write(f"records {after + 1} to {pruned_through} were pruned by the retention: "
                              f"exporting from {pruned_through + 1}")
        stream = open(output, "a", encoding="utf-8") if output else sys.stdout
        count, last = 0, after
        try:
            for line in records_after(after):
                stream.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                count, last = count + 1, line["seq"]
        finally:
            if output:
                stream.close()
        self.stderr.write(f"exported {count} audit records; the last seq is {last}")
