"""manage.py ip_allow_list: show or set the IP allow-lists from the server's shell, the way
back in when an administrator's list shut everyone out. Audited like a change in the console
(actor: system).

    manage.py ip_allow_list                           # every surface's list
    manage.py ip_allow_list console 10.20.0.0/16 192.0.2.7
    manage.py ip_allow_list console --open            # anyone may reach it again"""
from django.core.management.base import BaseCommand, CommandError

from branchline.accounts import allow_lists
from branchline.accounts.actions import ip_allow_list_set
from branchline.core.errors import DomainError


class Command(BaseCommand):
    help = "Show the IP allow-lists, or set one surface's (widget, console, admin, api)."

    def add_arguments(self, parser):
        parser.add_argument("surface", nargs="?", choices=[s.value for s in allow_lists.Surface])
        parser.add_argument("networks", nargs="*", help="addresses or networks (CIDR)")
        parser.add_argument("--open", action="store_true", help="empty the list: the surface is open to all")

    def handle(self, *args, surface=None, networks=(), open=False, **options):
        if surface is None:
            for name, listed in allow_lists.stored().items():
                self.stdout.write(f"{name}: {' '.join(listed) if listed else 'open to all'}")
            return
        if bool(networks) == open:
            raise CommandError("give the networks, or --open (not both)")
        try:
            stored = ip_allow_list_set(principal=None, surface=surface, networks=list(networks))
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{surface}: {' '.join(stored) if stored else 'open to all'}")
