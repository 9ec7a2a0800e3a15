"""Quick answers in the JSON API (docs/protocol.md §14)."""
from ninja import Router, Schema

from branchline.accounts.auth import staff_auth
from branchline.core.schemas import ErrorOut

from .selectors import quick_answers_for

router = Router()


class QuickAnswerOut(Schema):
    id: int
    category: str
    title: str
    body: str


@router.get("/staff/quick-answers", auth=staff_auth, response={200: list[QuickAnswerOut], 401: ErrorOut},
            tags=["knowledge"], summary="Your line's quick answers, by category")
def staff_quick_answers(request):
    return [{"id": a.id, "category": a.category, "title": a.title, "body": a.body}
            for a in quick_answers_for(request.principal)]
