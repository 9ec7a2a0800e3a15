"""Sessions move to accounts.WebSession, which names the signed-in user in a column
(accounts/staff_sessions.py). Live sessions move over, so nobody signed in is signed out by
the upgrade, and leave django.contrib.sessions' table (nothing signed out afterwards comes
back to life on a rollback, and no session data is left behind). Stop the servers, migrate,
start the new ones: a sign-out by the old code after this runs would not reach the new table."""
import django.db.models.deletion
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations, models
from django.utils import timezone


def move_live_sessions(apps, schema_editor):
    old, new, user = (apps.get_model(*name) for name in (("sessions", "Session"), ("accounts", "WebSession"),
                                                         ("accounts", "User")))
    # Django's store: its salt is its class's name, which accounts.staff_sessions.SessionStore shares.
    users, decode, copies = set(user.objects.values_list("id", flat=True)), SessionStore().decode, []
    for session in old.objects.filter(expire_date__gt=timezone.now()).iterator():
        named = str(decode(session.session_data).get(SESSION_KEY, ""))
        user_id = int(named) if named.isdecimal() and named.isascii() and int(named) in users else None
        copies.append(new(session_key=session.session_key, session_data=session.session_data,
                          expire_date=session.expire_date, user_id=user_id))
    new.objects.bulk_create(copies, batch_size=1000)
    old.objects.all().delete()


def move_sessions_back(apps, schema_editor):
    old, new = apps.get_model("sessions", "Session"), apps.get_model("accounts", "WebSession")
    old.objects.bulk_create([old(session_key=session.session_key, session_data=session.session_data,
                                 expire_date=session.expire_date) for session in new.objects.iterator()],
                            batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0011_staff_identity'),
        ('sessions', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='WebSession',
            fields=[
                ('session_key', models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name='session key')),
                ('session_data', models.TextField(verbose_name='session data')),
                ('expire_date', models.DateTimeField(db_index=True, verbose_name='expire date')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'session',
                'verbose_name_plural': 'sessions',
                'abstract': False,
            },
        ),
        migrations.RunPython(move_live_sessions, move_sessions_back),
    ]
