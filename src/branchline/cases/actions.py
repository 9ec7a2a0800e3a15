from django.utils import timezone

from .models import Case, CaseStatus, Topic


def case_open_for_conversation(*, customer, topic: Topic) -> Case:
    """The case a new conversation joins: an authenticated customer's open case on the
    same case type continues; otherwise a new case starts. Call inside the caller's
    transaction (the customer row is locked there)."""
    if customer.is_authenticated:
        existing = (
            Case.objects.filter(customer=customer, case_type_id=topic.case_type_id, status=CaseStatus.OPEN)
            .order_by("-created_at")
            .first()
        )
        if existing:
            return existing
    return Case.objects.create(
        customer=customer,
        topic=topic,
        case_type_id=topic.case_type_id,
        line_of_business_id=topic.case_type.line_of_business_id,
        created_at=timezone.now(),
    )
