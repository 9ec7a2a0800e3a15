"""Running the task queue's ready tasks in a test, the way `manage.py db_worker --batch` does."""
from django_tasks_db.management.commands.db_worker import Worker


def run_tasks() -> None:
    """Run every ready task (durable event subscribers: the audit trail), then stop."""
    Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False, max_tasks=None,
           worker_id="test", excluded_queue_names=[]).run()
