"""Thin task entry points: the durable subscribers of branchline/subscriptions.py."""
from django.tasks import task

from .actions import audit_record_event


@task()
def record_event(record: dict) -> None:
    audit_record_event(record=record)
