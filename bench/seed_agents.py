"""Create M bench agents in the bench's own database and sign each one in, writing their
session cookies to a JSON file for load.py (--agent-sessions).

Run with the server's environment (DJANGO_SETTINGS_MODULE, DATABASE_URL, ...), after
`manage.py migrate` and `manage.py seed_demo`:

    python bench/seed_agents.py --agents 20 --out /tmp/x/sessions.json

Signing in through POST /api/staff/session costs one PBKDF2 check (~0.4 s of server CPU)
per agent, and the first sign-in rehashes the password at full cost, so the sessions are
created here exactly as django.contrib.auth.login() would store them (same session keys),
which keeps the bench's setup short. The password is hashed once and shared by all bench
agents (`branchline-demo`, as for the demo staff)."""
import argparse
import json
import secrets
import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lob", default="Retail Banking")
    ap.add_argument("--password", default="branchline-demo")
    a = ap.parse_args()

    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password

    from branchline.accounts.models import LineOfBusiness, Role, User
    from branchline.connectors.actions import channel_web
    from branchline.routing.models import ChannelGrant, Queue, QueueMember

    lob = LineOfBusiness.objects.get(name=a.lob)
    # Agents take what waits in the queues they serve, from the channels they are granted
    # (docs/adr/0019): the bench agents serve every queue of the line, on the web channel.
    queues, web = list(Queue.objects.filter(line_of_business=lob)), channel_web()
    encoded = make_password(a.password)
    store_cls = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    for i in range(a.agents):
        username = f"benchagent{i:03d}"
        user, _ = User.objects.update_or_create(
            username=username,
            defaults=dict(role=Role.AGENT, line_of_business=lob, first_name="Bench", last_name=f"Agent {i}",
                          password=encoded, is_active=True, max_concurrent_chats=1000),
        )
        for queue in queues:
            QueueMember.objects.get_or_create(user=user, queue=queue)
        ChannelGrant.objects.get_or_create(user=user, channel=web)
        store = store_cls()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        csrftoken = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        sessions.append({"username": username, "sessionid": store.session_key, "csrftoken": csrftoken})
    Path(a.out).write_text(json.dumps(sessions))
    print(f"{len(sessions)} bench agents signed in -> {a.out}")


if __name__ == "__main__":
    main()
