"""Every read of quick answers."""
from branchline.accounts.principals import Principal

from .models import QuickAnswer


def quick_answers_for(principal: Principal) -> list[QuickAnswer]:
    """The active quick answers of the member of staff's line of business, by category."""
    if principal is None or not principal.is_staff or principal.line_of_business_id is None:
        return []
    return list(QuickAnswer.objects.filter(line_of_business_id=principal.line_of_business_id, is_active=True)
                .order_by("category", "position", "title"))
