"""Reads of the audit trail."""
from .chain import HASHED, Finding, canonical, verify
from .models import AuditChain, AuditRecord


def verify_chain() -> tuple[int, list[Finding]]:
    """(records checked, findings) for the whole chain, read in seq order in batches."""
    head = AuditChain.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    if head is None:
        return 0, [Finding(None, "the chain's head is missing")]
    records = _Counted(AuditRecord.objects.order_by("seq").iterator(chunk_size=2000))
    findings = verify(records, head)
    return records.count, findings


class _Counted:
    def __init__(self, iterable):
        self.iterable, self.count = iterable, 0

    def __iter__(self):
        for item in self.iterable:
            self.count += 1
            yield item


def records_after(seq: int, *, batch: int = 2000):
    """Records after `seq`, in chain order, as JSON-able dicts of their hashed fields and
    their hash (what audit_export writes: enough to verify each line off the machine)."""
    names = (*HASHED, "hash")
    while True:
        rows = list(AuditRecord.objects.filter(seq__gt=seq).order_by("seq").values(*names)[:batch])
        for row in rows:
            yield {name: canonical(row[name]) for name in names}
        if len(rows) < batch:
            return
        seq = rows[-1]["seq"]
