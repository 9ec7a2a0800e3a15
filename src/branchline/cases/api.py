from ninja import Router, Schema

from .models import Topic

router = Router()


class TopicOut(Schema):
    id: int
    name: str
    case_type: str


@router.get("/topics", response=list[TopicOut], tags=["customer"], summary="Topics a customer can choose")
def topics_list(request):
    return [{"id": t.id, "name": t.name, "case_type": t.case_type.name}
            for t in Topic.objects.filter(is_active=True).select_related("case_type")]
