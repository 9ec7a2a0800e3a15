"""The audit trail's hash chain: each record carries the HMAC of its own content and of the
record before it, so a record edited, inserted or deleted anywhere breaks the chain at
that point, and `manage.py audit_verify` says where.

The HMAC key (settings.AUDIT_CHAIN_KEY: BRANCHLINE_AUDIT_KEY, required in production; derived
from SECRET_KEY elsewhere) is not in the database: someone who can write the table cannot
forge a record that verifies. The chain's head (the newest seq and hash) lives in its own row
with an HMAC of its own, so deleting the newest records and moving the head back needs the
key too. A head replayed from an earlier moment cannot be told from the database alone:
verify against the last record the SIEM holds (`audit_verify --expect-seq/--expect-hash`)."""
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings

GENESIS = "0" * 64
# The fields a record's hash covers, in this order (its id and hash are not content).
HASHED = ("seq", "prev_hash", "event_id", "event", "occurred_at", "recorded_at", "actor_kind", "actor_id",
          "actor_name", "address", "subject_type", "subject_id", "data")


def canonical(value):
    if hasattr(value, "astimezone"):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def _key() -> bytes:
    if settings.AUDIT_CHAIN_KEY:
        return settings.AUDIT_CHAIN_KEY.encode()
    return hashlib.sha256(b"branchline.audit.chain:" + settings.SECRET_KEY.encode()).digest()


def _mac(content: dict) -> str:
    message = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def record_hash(record) -> str:
    return _mac({name: canonical(getattr(record, name)) for name in HASHED})


def head_mac(last_seq: int, last_hash: str) -> str:
    return _mac({"head": True, "last_seq": last_seq, "last_hash": last_hash})


def start_mac(start_seq: int, start_hash: str) -> str:
    """The MAC of where the chain starts after pruning: moving the start forward (to hide
    deleted records as "pruned") needs the key."""
    return _mac({"start": True, "start_seq": start_seq, "start_hash": start_hash})


def start_holds(start_seq: int, start_hash: str, mac: str) -> bool:
    if (start_seq, start_hash, mac) == (0, GENESIS, ""):
        return True  # never pruned: the chain starts at its beginning
    return hmac.compare_digest(mac, start_mac(start_seq, start_hash))


@dataclass
class Finding:
    seq: int | None
    problem: str

    def __str__(self):
        return f"seq {self.seq}: {self.problem}" if self.seq is not None else self.problem


def verify(records, head, start=(0, GENESIS, "")) -> list[Finding]:
    """Walk `records` (in seq order) from the chain's `start` (seq and hash of the last
    pruned record, and their MAC), and compare the end with `head` (seq, hash, mac). Each
    finding names the first seq where the chain stops holding."""
    findings: list[Finding] = []
    head_seq, head_hash, mac = head
    start_seq, start_hash, start_mac_ = start
    if not hmac.compare_digest(mac, head_mac(head_seq, head_hash)):
        findings.append(Finding(head_seq, "the chain's head was changed (its MAC does not match)"))
    if not start_holds(start_seq, start_hash, start_mac_):
        findings.append(Finding(start_seq, "the chain's start was moved (its MAC does not match): records were "
                                           "deleted and passed off as pruned"))
    end = walk(records, start_seq, start_hash, findings)
    if end != (head_seq, head_hash):
        findings.append(Finding(head_seq, f"the chain ends at seq {end[0]}, its head says {head_seq}: "
                                          "the newest records were deleted, or the head was changed"))
    return findings


def walk(records, start_seq: int, start_hash: str, findings: list[Finding]) -> tuple[int, str]:
    """Follow `records` (in seq order) from the record (start_seq, start_hash): each must come
    next, name the one before it, and match its own hash; what does not is added to
    `findings`. Returns the last record's (seq, hash), or the start's when there is none."""
    expected_seq, previous = start_seq + 1, start_hash
    for record in records:
        if record.seq != expected_seq:
            what = "missing" if record.seq > expected_seq else "repeated or out of order"
            findings.append(Finding(record.seq, f"expected seq {expected_seq}: records {what} (deleted or inserted)"))
        elif record.prev_hash != previous:
            findings.append(Finding(record.seq, "does not follow the record before it (one was deleted or inserted)"))
        if record.hash != record_hash(record):
            findings.append(Finding(record.seq, "its content does not match its hash (edited)"))
        expected_seq, previous = record.seq + 1, record.hash
    return expected_seq - 1, previous
