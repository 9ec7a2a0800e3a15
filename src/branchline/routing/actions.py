"""Every write of queues (house rule 1). Memberships and grants are administered in the
administration (routing/admin.py, saved through accounts' administration actions)."""
from django.db import IntegrityError, transaction

from branchline.accounts.models import LineOfBusiness

from .models import Queue


def queue_default_ensure(line_of_business_id: int) -> Queue:
    """The line's default queue, made (named after the line) if it has none yet: a line
    created after the upgrade gets one with its first conversation."""
    found = Queue.objects.filter(line_of_business_id=line_of_business_id, is_default=True).first()
    if found is not None:
        return found
    name = LineOfBusiness.objects.get(pk=line_of_business_id).name
    try:
        with transaction.atomic():  # a savepoint: another request may make it at the same moment
            return Queue.objects.create(line_of_business_id=line_of_business_id, name=name, is_default=True)
    except IntegrityError:
        found = Queue.objects.filter(line_of_business_id=line_of_business_id, is_default=True).first()
        if found is not None:
            return found
        # Its name is taken by a queue that is not the default: the first becomes the default.
        with transaction.atomic():
            queue = Queue.objects.select_for_update().filter(line_of_business_id=line_of_business_id).first()
            queue.is_default = True
            queue.save(update_fields=["is_default"])
            return queue
