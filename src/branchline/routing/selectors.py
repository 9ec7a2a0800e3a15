"""Who serves which queue, from which channels: the reads behind Pending visibility,
taking a conversation, the queue audiences of staff sockets, and transfer candidates."""
from django.db.models import Exists, OuterRef

from branchline.accounts.models import User
from branchline.accounts.permissions import HANDLING_ROLES, staff_scope
from branchline.connectors.models import Channel

from .models import ChannelGrant, Queue, QueueMember


def served_queue_ids(user_id: int):
    """The queues `user_id` is enabled on (a subquery)."""
    return QueueMember.objects.filter(user_id=user_id).values("queue_id")


def granted_channel_ids(user_id: int):
    """The channels `user_id` is granted (a subquery)."""
    return ChannelGrant.objects.filter(user_id=user_id).values("channel_id")


def serves(user_id: int, queue_id: int, channel_id: int) -> bool:
    """Whether `user_id` is enabled on the queue and granted the channel: one query."""
    return QueueMember.objects.filter(user_id=user_id, queue_id=queue_id).filter(
        Exists(ChannelGrant.objects.filter(user_id=user_id, channel_id=channel_id))).exists()


def queue_pairs(principals) -> dict[int, frozenset[tuple[int, int]]]:
    """For each member of staff among `principals`, the (queue, channel) pairs whose waiting
    conversations they see: for supervisors, administrators and auditors every queue of
    their line and every channel; for agents the queues they are enabled on and the
    channels they are granted. Two or three queries whatever the number of principals."""
    staff = [p for p in principals if p.is_staff]
    whole = {p.id: p.line_of_business_id for p in staff if staff_scope(p).whole_line and p.line_of_business_id}
    agents = [p.id for p in staff if p.id not in whole]
    line_of = {p.id: p.line_of_business_id for p in staff}
    pairs: dict[int, frozenset] = {p.id: frozenset() for p in staff}
    if whole:
        channels = list(Channel.objects.values_list("id", flat=True))
        by_line: dict[int, list[int]] = {}
        for queue_id, line_id in Queue.objects.filter(line_of_business_id__in=set(whole.values())).values_list(
                "id", "line_of_business_id"):
            by_line.setdefault(line_id, []).append(queue_id)
        for user_id, line_id in whole.items():
            pairs[user_id] = frozenset((q, c) for q in by_line.get(line_id, ()) for c in channels)
    if agents:
        queues: dict[int, list[int]] = {}
        memberships = QueueMember.objects.filter(user_id__in=agents).values_list("user_id", "queue_id",
                                                                                 "queue__line_of_business_id")
        for user_id, queue_id, line_id in memberships:
            if line_id == line_of[user_id]:  # a queue of another line shows nothing (as over HTTP)
                queues.setdefault(user_id, []).append(queue_id)
        channels_of: dict[int, list[int]] = {}
        for user_id, channel_id in ChannelGrant.objects.filter(user_id__in=agents).values_list("user_id", "channel_id"):
            channels_of.setdefault(user_id, []).append(channel_id)
        for user_id in agents:
            pairs[user_id] = frozenset((q, c) for q in queues.get(user_id, ()) for c in channels_of.get(user_id, ()))
    return pairs


def queues_of_line(line_of_business_id: int | None) -> list[Queue]:
    if line_of_business_id is None:
        return []
    return list(Queue.objects.filter(line_of_business_id=line_of_business_id).order_by("name", "id"))


def queue_members(queue_id: int):
    """Active members of staff who may take the queue's conversations (a queryset of users)."""
    return User.objects.filter(is_active=True, role__in=HANDLING_ROLES,
                               pk__in=QueueMember.objects.filter(queue_id=queue_id).values("user_id"))


def granted(users, channel_id: int):
    """`users` (a queryset) narrowed to those granted the channel."""
    return users.filter(Exists(ChannelGrant.objects.filter(user_id=OuterRef("pk"), channel_id=channel_id)))
