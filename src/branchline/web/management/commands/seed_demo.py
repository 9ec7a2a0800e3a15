from django.core.management.base import BaseCommand

from branchline.web.demo_data import DEMO_PASSWORD, seed


class Command(BaseCommand):
    help = "Load the demo bank (idempotent)."

    def handle(self, *args, **options):
        result = seed()
        self.stdout.write(self.style.SUCCESS("Demo bank ready."))
        self.stdout.write(f"  staff sign-ins (password {DEMO_PASSWORD!r}): {', '.join(result['staff'])}")
        self.stdout.write(f"  demo customers (via the demo SSO page): {', '.join(result['customers'])}")
