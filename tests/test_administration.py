"""The administration (/admin/, Django's admin scoped by accounts/administration.py): an
administrator manages the staff, case types and topics of their own line of business and
nothing of another's; bank-wide administrators (superusers) manage every line, new lines and
channels; every change is in the audit trail; nobody else gets in."""
import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchline.accounts.models import LineOfBusiness, Passkey, User
from branchline.audit.models import AuditRecord
from branchline.cases.models import CaseStatus, CaseType, Topic
from branchline.connectors.models import Channel
from tests import factories
from tests.support.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)  # audit records are written by tasks


def _admin(user):
    return factories.staff_browser(user)


def _post(client, path, data):
    return client.post(path, {**data, "csrfmiddlewaretoken": client.csrf})


def _audited(event="administration.changed"):
    run_tasks()
    return list(AuditRecord.objects.filter(event=event).order_by("seq"))


@pytest.fixture
def bank_wide(world):
    return factories.staff(world.lob, role="admin", is_superuser=True)


# --- who gets in --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor"])
def test_only_administrators_get_in(world, role):
    client = factories.staff_browser(getattr(world, role))
    for path in ("/admin/", "/admin/login/?next=/admin/", "/admin/accounts/user/",
                 f"/admin/accounts/user/{world.agent.id}/change/", "/admin/cases/topic/add/"):
        refused = client.get(path)  # at its own address, not by way of the sign-in page
        assert refused.status_code == 403 and b"Only administrators" in refused.content, path
    assert b"admin-url=\"\"" in client.get("/console/").content.replace(b"data-", b"")


def test_signing_in_leads_through_the_consoles_sign_in_and_back(world, client):
    to_login = client.get("/admin/accounts/user/")
    assert to_login.status_code == 302
    to_console = client.get(to_login["Location"])
    assert to_console.status_code == 302 and to_console["Location"].startswith("/console/login/?next=")
    signed_in = client.post(to_console["Location"], {"username": world.admin.username, "password": factories.PASSWORD,
                                                     "next": "/admin/accounts/user/"})
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/admin/accounts/user/")
    assert client.get("/admin/accounts/user/").status_code == 200
    elsewhere = client.post("/console/login/", {"username": world.admin.username, "password": factories.PASSWORD,
                                                "next": "https://evil.example/"})
    assert elsewhere["Location"] == "/console/"  # never off-site


# --- staff ----------------------------------------------------------------------------------

def test_an_administrator_sees_the_staff_of_their_line_only(world, bank_wide):
    admin = _admin(world.admin)
    listed = admin.get("/admin/accounts/user/").content.decode()
    assert world.agent.username in listed and world.supervisor.username in listed
    assert world.outsider.username not in listed and bank_wide.username not in listed
    assert world.other_lob.name not in listed  # not even as a filter
    for hidden in (world.outsider, bank_wide):
        page = admin.get(f"/admin/accounts/user/{hidden.id}/change/")
        assert page.status_code == 302 and hidden.username not in admin.get(page["Location"]).content.decode()


def test_an_administrator_adds_a_member_of_staff_to_their_line_and_it_is_audited(world):
    admin = _admin(world.admin)
    form = admin.get("/admin/accounts/user/add/").content.decode()
    assert f'value="{world.lob.id}"' in form and f'value="{world.other_lob.id}"' not in form
    added = _post(admin, "/admin/accounts/user/add/", {
        "username": "nina", "first_name": "Nina", "last_name": "Novak", "email": "nina@bank.example", "role": "agent",
        "line_of_business": world.lob.id, "usable_password": "true", "password1": "a-Long-pass-phrase-42",
        "password2": "a-Long-pass-phrase-42"})
    assert added.status_code == 302, added.content.decode()[:2000]
    nina = User.objects.get(username="nina")
    assert nina.line_of_business == world.lob and nina.check_password("a-Long-pass-phrase-42")
    [record] = _audited()
    assert (record.data["model"], record.data["change"], record.actor_id, record.subject_type, record.subject_id) == (
        "accounts.user", "added", world.admin.id, "user", nina.id)
    assert "password" in record.data["fields"] and "password" not in record.data["values"]
    assert nina.password not in str(record.data)


def test_an_administrator_cannot_put_anyone_in_another_line(world):
    admin = _admin(world.admin)
    refused = _post(admin, "/admin/accounts/user/add/", {
        "username": "mole", "role": "agent", "line_of_business": world.other_lob.id, "usable_password": "false"})
    assert refused.status_code == 200 and b"Select a valid choice" in refused.content
    change = _post(admin, f"/admin/accounts/user/{world.agent.id}/change/", {
        "username": world.agent.username, "role": "agent", "line_of_business": world.other_lob.id,
        "max_concurrent_chats": 5, "is_active": "on"})
    assert change.status_code == 200 and b"Select a valid choice" in change.content
    assert not User.objects.filter(username="mole").exists()
    world.agent.refresh_from_db()
    assert world.agent.line_of_business == world.lob and _audited() == []


def test_another_lines_member_of_staff_cannot_be_changed(world):
    admin = _admin(world.admin)
    response = _post(admin, f"/admin/accounts/user/{world.outsider.id}/change/", {
        "username": "taken-over", "role": "admin", "line_of_business": world.lob.id, "max_concurrent_chats": 5})
    assert response.status_code == 302
    world.outsider.refresh_from_db()
    assert (world.outsider.username, world.outsider.role) != ("taken-over", "admin") and _audited() == []


def test_an_administrator_cannot_change_their_own_role_or_access(world):
    admin = _admin(world.admin)
    response = _post(admin, f"/admin/accounts/user/{world.admin.id}/change/", {
        "username": world.admin.username, "first_name": "Renamed", "role": "agent", "line_of_business": world.other_lob.id,
        "max_concurrent_chats": 5})
    assert response.status_code == 302
    world.admin.refresh_from_db()
    assert (world.admin.first_name, world.admin.role, world.admin.line_of_business, world.admin.is_active) == (
        "Renamed", "admin", world.lob, True)


def test_deactivating_a_member_of_staff_is_audited_with_what_changed(world):
    admin = _admin(world.admin)
    _post(admin, f"/admin/accounts/user/{world.agent.id}/change/", {
        "username": world.agent.username, "first_name": world.agent.first_name, "last_name": world.agent.last_name,
        "role": "agent", "line_of_business": world.lob.id, "max_concurrent_chats": 5})  # is_active unticked
    world.agent.refresh_from_db()
    assert not world.agent.is_active
    [record] = _audited()
    assert record.data["fields"] == ["is_active"] and record.data["values"] == {"is_active": False}


def test_setting_a_password_goes_through_the_audit_trail(world):
    admin = _admin(world.admin)
    response = _post(admin, f"/admin/accounts/user/{world.agent.id}/password/", {
        "password1": "another-Long-phrase-7", "password2": "another-Long-phrase-7", "usable_password": "true"})
    assert response.status_code == 302
    world.agent.refresh_from_db()
    assert world.agent.check_password("another-Long-phrase-7")
    [record] = _audited()
    assert record.data["fields"] == ["password"] and record.data["values"] == {}
    assert _post(admin, f"/admin/accounts/user/{world.outsider.id}/password/", {
        "password1": "x-Long-phrase-77", "password2": "x-Long-phrase-77"}).status_code == 404
    world.outsider.refresh_from_db()
    assert not world.outsider.check_password("x-Long-phrase-77")


def test_a_lost_second_factor_is_reset_by_an_administrator_of_the_line(world):
    for user in (world.agent, world.outsider):
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        StaticDevice.objects.create(user=user, name="recovery codes")
        Passkey.objects.create(user=user, credential_id=f"cred-{user.id}", public_key=b"k", name="passkey")
    admin = _admin(world.admin)
    listed = admin.get("/admin/accounts/user/").content.decode()
    assert "passkey, authenticator app" in listed
    asked = _post(admin, "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [world.agent.id]})
    assert asked.status_code == 200 and b"Reset the second factor?" in asked.content
    assert world.agent.username.encode() in asked.content and TOTPDevice.objects.filter(user=world.agent).exists()
    response = _post(admin, "/admin/accounts/user/", {"action": "reset_second_factor", "confirm": "yes",
                                                      "_selected_action": [world.agent.id, world.outsider.id]})
    assert response.status_code == 302
    for model in (TOTPDevice, StaticDevice, Passkey):
        assert not model.objects.filter(user=world.agent).exists()
        assert model.objects.filter(user=world.outsider).exists()  # another line's: untouched
    [record] = _audited("staff.second_factor_reset")
    assert (record.subject_id, record.data["removed"]) == (world.agent.id, ["passkeys", "authenticator",
                                                                            "recovery codes"])


def test_nobody_resets_their_own_second_factor(world):
    admin = _admin(world.admin)
    TOTPDevice.objects.create(user=world.admin, name="authenticator", confirmed=True)
    _post(admin, "/admin/accounts/user/", {"action": "reset_second_factor", "confirm": "yes", "_selected_action": [world.admin.id]})
    assert TOTPDevice.objects.filter(user=world.admin).exists() and _audited("staff.second_factor_reset") == []


# --- lines, case types, topics, channels ----------------------------------------------------

def test_case_types_and_topics_of_the_administrators_line_only(world):
    admin = _admin(world.admin)
    listed = admin.get("/admin/cases/topic/").content.decode()
    assert world.topic.name in listed and world.other_topic.name not in listed
    assert world.other_topic.case_type.name not in listed and world.other_lob.name not in listed
    assert world.other_lob.name not in admin.get("/admin/cases/casetype/").content.decode()
    form = admin.get("/admin/cases/topic/add/").content.decode()
    assert world.topic.case_type.name in form and world.other_topic.case_type.name not in form
    assert "Mortgages" in form  # its line's queues are offered for the topic's queue
    added = _post(admin, "/admin/cases/topic/add/", {"name": "Savings", "case_type": world.topic.case_type_id,
                                                     "is_active": "on", "position": 3})
    assert added.status_code == 302 and Topic.objects.filter(name="Savings", case_type=world.topic.case_type).exists()
    sneaked = _post(admin, "/admin/cases/topic/add/", {"name": "Sneaked", "case_type": world.other_topic.case_type_id,
                                                       "position": 0})
    assert sneaked.status_code == 200 and not Topic.objects.filter(name="Sneaked").exists()
    other = _post(admin, f"/admin/cases/topic/{world.other_topic.id}/change/", {
        "name": "Renamed", "case_type": world.other_topic.case_type_id, "position": 0})
    assert other.status_code == 302
    world.other_topic.refresh_from_db()
    assert world.other_topic.name == "Treasury"
    case_type = _post(admin, "/admin/cases/casetype/add/", {"name": "Complaints", "line_of_business": world.lob.id})
    assert case_type.status_code == 302 and CaseType.objects.get(name="Complaints").line_of_business == world.lob
    assert [r.data["model"] for r in _audited()] == ["cases.topic", "cases.casetype"]


def test_queues_members_and_channel_grants_of_the_administrators_line_only(world):
    from branchline.connectors.actions import channel_web
    from branchline.connectors.models import Channel
    from branchline.routing.models import ChannelGrant, Queue, QueueMember

    other_queue = Queue.objects.get(line_of_business=world.other_lob, is_default=True)
    admin = _admin(world.admin)
    assert other_queue.name not in admin.get("/admin/routing/queue/").content.decode()
    assert admin.get(f"/admin/routing/queue/{other_queue.id}/change/").status_code in (302, 404)
    members = admin.get("/admin/routing/queuemember/").content.decode()
    assert world.agent.username in members and world.outsider.username not in members
    newcomer = factories.staff(world.lob, serving=False)
    added = _post(admin, "/admin/routing/queuemember/add/", {"queue": world.queue2.id, "user": newcomer.id})
    assert added.status_code == 302 and QueueMember.objects.filter(queue=world.queue2, user=newcomer).exists()
    sneaked = _post(admin, "/admin/routing/queuemember/add/", {"queue": other_queue.id, "user": newcomer.id})
    assert sneaked.status_code == 200 and not QueueMember.objects.filter(queue=other_queue).exclude(
        user=world.outsider).exists()
    granted = _post(admin, "/admin/routing/channelgrant/add/", {"user": newcomer.id, "channel": channel_web().id})
    assert granted.status_code == 302 and ChannelGrant.objects.filter(user=newcomer).exists()
    whatsapp = Channel.objects.create(kind="whatsapp_test", name="WhatsApp")
    foreign = _post(admin, "/admin/routing/channelgrant/add/", {"user": world.outsider.id, "channel": whatsapp.id})
    assert foreign.status_code == 200 and not ChannelGrant.objects.filter(channel=whatsapp).exists()
    assert [r.data["model"] for r in _audited()] == ["routing.queuemember", "routing.channelgrant"]


def test_case_statuses_of_the_administrators_line_only(world):
    from branchline.cases.actions import case_statuses_ensure

    case_statuses_ensure(world.lob.id), case_statuses_ensure(world.other_lob.id)
    admin = _admin(world.admin)
    added = _post(admin, "/admin/cases/casestatus/add/", {"name": "Escalated", "line_of_business": world.lob.id,
                                                          "position": 2})
    assert added.status_code == 302
    escalated = CaseStatus.objects.get(name="Escalated")
    assert (escalated.line_of_business, escalated.is_resolved) == (world.lob, False)
    sneaked = _post(admin, "/admin/cases/casestatus/add/", {"name": "Sneaked", "line_of_business": world.other_lob.id,
                                                            "position": 0})
    assert sneaked.status_code == 200 and not CaseStatus.objects.filter(name="Sneaked").exists()
    foreign = CaseStatus.objects.filter(line_of_business=world.other_lob).first()
    assert admin.get(f"/admin/cases/casestatus/{foreign.id}/change/").status_code == 302  # "does not exist"
    second_initial = _post(admin, "/admin/cases/casestatus/add/", {
        "name": "Also new", "line_of_business": world.lob.id, "is_initial": "on", "position": 0})
    assert second_initial.status_code == 200 and not CaseStatus.objects.filter(name="Also new").exists()
    assert [r.data["model"] for r in _audited()] == ["cases.casestatus"]


def test_lines_of_business_are_added_by_bank_wide_administrators_only(world, bank_wide):
    admin = _admin(world.admin)
    listed = admin.get("/admin/accounts/lineofbusiness/").content.decode()
    assert world.lob.name in listed and world.other_lob.name not in listed
    assert admin.get("/admin/accounts/lineofbusiness/add/").status_code == 403
    renamed = _post(admin, f"/admin/accounts/lineofbusiness/{world.lob.id}/change/", {"name": "Retail banking"})
    assert renamed.status_code == 302 and LineOfBusiness.objects.get(pk=world.lob.id).name == "Retail banking"

    bank = _admin(bank_wide)
    assert world.other_lob.name in bank.get("/admin/accounts/lineofbusiness/").content.decode()
    added = _post(bank, "/admin/accounts/lineofbusiness/add/", {"name": "Private banking"})
    assert added.status_code == 302 and LineOfBusiness.objects.filter(name="Private banking").exists()
    assert world.outsider.username in bank.get("/admin/accounts/user/").content.decode()


def test_channels_are_changed_by_bank_wide_administrators_only(world, bank_wide):
    channel = Channel.objects.get_or_create(kind="web", defaults={"name": "Web chat"})[0]
    admin = _admin(world.admin)
    assert admin.get(f"/admin/connectors/channel/{channel.id}/change/").status_code == 200  # read only
    refused = _post(admin, f"/admin/connectors/channel/{channel.id}/change/", {"name": "Hijacked", "priority": 1})
    assert refused.status_code == 403
    changed = _post(_admin(bank_wide), f"/admin/connectors/channel/{channel.id}/change/", {
        "name": "Web chat", "is_enabled": "on", "priority": 10, "auto_close_hours": 48,
        "carries_documents": "on", "carries_audio": "on", "max_file_mb": 10})
    assert changed.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.priority, channel.auto_close_hours) == ("Web chat", 10, 48)
    assert (channel.carries(), channel.file_limit_mb()) == (["document", "audio"], 10)


def test_administrators_are_made_and_changed_by_bank_wide_administrators_only(world, bank_wide):
    """Otherwise a line's administrator could take another over: a new password, their
    second factor reset."""
    peer = factories.staff(world.lob, role="admin")
    TOTPDevice.objects.create(user=peer, name="authenticator", confirmed=True)
    admin = _admin(world.admin)
    assert b'value="admin"' not in admin.get("/admin/accounts/user/add/").content
    promoted = _post(admin, f"/admin/accounts/user/{world.agent.id}/change/", {
        "username": world.agent.username, "role": "admin", "line_of_business": world.lob.id,
        "max_concurrent_chats": 5, "is_active": "on"})
    assert promoted.status_code == 200 and b"Select a valid choice" in promoted.content
    assert _post(admin, f"/admin/accounts/user/{peer.id}/change/", {
        "username": peer.username, "role": "agent", "line_of_business": world.lob.id,
        "max_concurrent_chats": 5}).status_code == 403
    assert _post(admin, f"/admin/accounts/user/{peer.id}/password/", {
        "password1": "taken-Over-phrase-9", "password2": "taken-Over-phrase-9"}).status_code == 403
    _post(admin, "/admin/accounts/user/", {"action": "reset_second_factor", "confirm": "yes", "_selected_action": [peer.id]})
    peer.refresh_from_db()
    assert peer.role == "admin" and not peer.check_password("taken-Over-phrase-9")
    assert TOTPDevice.objects.filter(user=peer).exists() and world.agent.role == "agent"

    bank = _admin(bank_wide)
    _post(bank, "/admin/accounts/user/", {"action": "reset_second_factor", "confirm": "yes", "_selected_action": [peer.id]})
    assert not TOTPDevice.objects.filter(user=peer).exists()


def test_the_headers_change_password_link_opens_ones_own_password_form(world):
    admin = _admin(world.admin)
    link = admin.get("/admin/password_change/")
    assert (link.status_code, link["Location"]) == (302, f"/admin/accounts/user/{world.admin.id}/password/")
    assert admin.get(link["Location"]).status_code == 200
