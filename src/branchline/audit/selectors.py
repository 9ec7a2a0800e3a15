"""Reads of the audit trail."""
from branchline.events import subscriptions

from .chain import HASHED, Finding, canonical, verify
from .events import AuditPruned
from .models import AuditChain, AuditRecord
from .tasks import record_event


def _head():
    return AuditChain.objects.filter(pk=1).values_list("last_seq", "last_hash", "mac").first()


def _start() -> tuple[int, str, str]:
    return AuditChain.objects.filter(pk=1).values_list("start_seq", "start_hash", "start_mac").first()


def verify_chain(*, expect: tuple[int, str] | None = None) -> tuple[int, list[Finding]]:
    """(records checked, findings) for the chain up to its head, read in seq order in batches.

    Records appended while it runs are not findings: only those up to the head read first
    are walked, and one beyond it counts as inserted only if it is still beyond the head
    read afterwards. `expect` (seq, hash): a record known from outside (the SIEM's last
    line) that must still be in the chain, unchanged, unless the retention pruned it."""
    head = _head()
    if head is None:
        return 0, [Finding(None, "the chain's head is missing")]
    start = _start()
    records = _Counted(AuditRecord.objects.filter(seq__gt=start[0], seq__lte=head[0]).order_by("seq")
                       .iterator(chunk_size=2000))
    findings = verify(records, head, start)
    if AuditRecord.objects.filter(seq__lte=start[0]).exists():  # pruning deletes them in its transaction
        findings.append(Finding(start[0], "record(s) before the chain's start (inserted)"))
    if start[0] and not AuditRecord.objects.filter(event="audit.pruned", data__through_seq=start[0],
                                                   data__through_hash=start[1]).exists():
        findings.append(Finding(start[0], "no audit.pruned record in the chain says the records up to here were "
                                          "pruned"))
    beyond = list(AuditRecord.objects.filter(seq__gt=head[0]).values_list("seq", flat=True))
    if beyond:
        now = _head()
        stray = [seq for seq in beyond if now is None or seq > now[0]]
        if stray:
            findings.append(Finding(min(stray), f"{len(stray)} record(s) beyond the chain's head (inserted)"))
    if expect is not None and expect[0] > start[0]:  # at or before the start: pruned, as recorded
        known = AuditRecord.objects.filter(seq=expect[0]).values_list("hash", flat=True).first()
        if known != expect[1]:
            findings.append(Finding(expect[0], "the record known from outside is missing or different "
                                               "(the chain was cut back, or rewritten with the key)"))
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


READ_FIELDS = ("seq", "event", "occurred_at", "actor_kind", "actor_id", "actor_name", "address", "subject_type",
               "subject_id", "data")


def records_page(*, filters: dict, before_seq: int | None, limit: int) -> list[dict]:
    """Audit records newest first (keyset on seq), narrowed by exact `filters` on the
    record's fields and `occurred_at__gte/__lt`."""
    records = AuditRecord.objects.filter(**filters)
    if before_seq is not None:
        records = records.filter(seq__lt=before_seq)
    return list(records.order_by("-seq").values(*READ_FIELDS)[:limit])


def retention_state() -> dict:
    """{"retention_days", "pruned_through_seq"}: what the retention is, and how far it pruned."""
    row = AuditChain.objects.filter(pk=1).values("retention_days", "start_seq").first() or {
        "retention_days": None, "start_seq": 0}
    return {"retention_days": row["retention_days"], "pruned_through_seq": row["start_seq"]}


def audited_event_names() -> list[str]:
    """Every event the trail records (those the subscription table sends to the audit task,
    their subclasses included, and the pruning's own): for the auditors' filter."""
    def family(klass):
        yield klass
        for sub in klass.__subclasses__():
            yield from family(sub)

    names = {AuditPruned.name}
    for klass, subscribers in subscriptions().durable.items():
        if record_event in subscribers:
            names.update(name for k in family(klass) if (name := getattr(k, "name", None)))
    return sorted(names)
