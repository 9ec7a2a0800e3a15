"""Files in conversations (issue 8, docs/protocol.md §16, docs/adr/0021): uploaded, scanned
by a real clamd, sniffed, stripped of metadata, sent once, and opened only by those who may
see the conversation; everything refused leaves nothing behind."""
import hashlib
import io
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.test import Client
from django.utils import timezone
from PIL import Image

from branchline.accounts.actions import customer_session_start
from branchline.audit.models import AuditRecord
from branchline.connectors.actions import channel_web
from branchline.conversations import actions
from branchline.conversations.models import Attachment, Message
from branchline.core.scanner import _breaker as scanner_breaker
from tests import factories
from tests.factories import principal
from tests.support.clamd import EICAR, Scanner
from tests.support.tasks import run_tasks

pytestmark = [pytest.mark.django_db]

# A Windows program: what libmagic sees whatever the name says.
EXECUTABLE = b"MZ\x90\x00" + b"\0" * 56 + b"\x80\0\0\0" + b"\0" * 64 + b"PE\0\0" + b"\0" * 200
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def photo_with_exif() -> bytes:
    """A JPEG as a phone takes it: the camera, where, and sideways (orientation 6)."""
    exif = Image.Exif()
    exif[0x010F] = "BankCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show
    exif[0x8825] = {1: "N", 2: (52.0, 13.0, 0.0)}  # GPS
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


class Customer:
    """A customer's HTTP client, with their token."""

    def __init__(self, customer=None):
        self.customer = customer or factories.customer(authenticated=True)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {customer_session_start(customer=self.customer)}")

    def upload(self, name: str, data: bytes):
        return self.client.post("/api/customer/files", {"file": _file(name, data)})

    def send(self, client_message_id: str, **body):
        return self.client.post("/api/customer/messages", {"client_message_id": client_message_id, **body},
                                content_type="application/json")


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _staff_upload(client, conversation_id, name, data):
    return client.post(f"/api/staff/conversations/{conversation_id}/files", {"file": _file(name, data)},
                       HTTP_X_CSRFTOKEN=client.csrf)


def _staff_send(client, conversation_id, client_message_id, **body):
    return factories.post_json(client, f"/api/staff/conversations/{conversation_id}/messages",
                               {"client_message_id": client_message_id, **body})


def _chat(world, customer: Customer, client_message_id="hello"):
    """The customer's conversation, taken by world.agent."""
    sent = customer.send(client_message_id, body="Hello", topic_id=world.topic.id)
    conversation_id = sent.json()["message"]["conversation_id"]
    actions.conversation_accept(principal=principal(world.agent), conversation_id=conversation_id)
    return conversation_id


def _stored_files() -> list[str]:
    storage = storages["attachments"]
    found = []
    if not storage.exists(""):
        return found

    def walk(path):
        directories, files = storage.listdir(path)
        found.extend(f"{path}/{name}".lstrip("/") for name in files)
        for directory in directories:
            walk(f"{path}/{directory}".lstrip("/"))

    walk("")
    return found


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db(transaction=True)  # audit records are written by tasks
def test_a_customers_photo_is_scanned_stripped_sent_and_opened_by_whoever_may_see_it(world, scanning):
    jan = Customer()
    cid = _chat(world, jan)
    uploaded = jan.upload("holiday photo.JPEG", photo_with_exif())
    assert uploaded.status_code == 201, uploaded.content
    file = uploaded.json()
    assert {k: file[k] for k in ("name", "content_type", "category")} == {
        "name": "holiday photo.JPEG", "content_type": "image/jpeg", "category": "image"}
    sent = jan.send("photo-1", body="My card's photo", attachment_id=file["id"])
    assert sent.status_code == 201, sent.content
    message = sent.json()["message"]
    assert (message["text"], message["attachment"]["id"], message["conversation_id"]) == (
        "My card's photo", file["id"], cid)

    opened = jan.client.get(f"/api/customer/files/{file['id']}")
    assert opened.status_code == 200 and opened["Content-Type"] == "image/jpeg"
    assert opened["X-Content-Type-Options"] == "nosniff" and "sandbox" in opened["Content-Security-Policy"]
    picture = Image.open(io.BytesIO(_body(opened)))
    assert dict(picture.getexif()) == {} and picture.size == (20, 40)  # no EXIF; turned upright as it said
    assert file["size"] == len(_body(jan.client.get(f"/api/customer/files/{file['id']}")))  # what is kept

    # Staff see it in the conversation and open it; each opening is recorded.
    agent = factories.staff_browser(world.agent)
    items = agent.get(f"/api/staff/conversations/{cid}/messages").json()["messages"]
    assert [i["attachment"]["name"] for i in items if i["attachment"]] == ["holiday photo.JPEG"]
    for who in (world.agent, world.supervisor, world.auditor):
        assert factories.staff_browser(who).get(f"/api/staff/files/{file['id']}").status_code == 200
    run_tasks()
    opened_by = sorted(AuditRecord.objects.filter(event="file.opened").values_list("actor_id", flat=True))
    assert opened_by == sorted([world.agent.id, world.supervisor.id, world.auditor.id])
    # Nobody else: another line's agent, an agent not serving or handling it, another customer.
    for who in (world.outsider, world.agent2):
        refused = factories.staff_browser(who).get(f"/api/staff/files/{file['id']}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "file_not_found")
    assert Customer().client.get(f"/api/customer/files/{file['id']}").status_code == 404
    assert Client().get(f"/api/customer/files/{file['id']}").status_code == 401


@pytest.mark.django_db(transaction=True)  # audit records are written by tasks
def test_refused_files_leave_nothing_and_are_recorded(world, scanning):
    jan = Customer()
    _chat(world, jan)
    eicar_pdf = PDF.replace(b"endobj", b"endobj\n% " + EICAR)
    cases = [("invoice.pdf", EXECUTABLE, 422, "file_type_not_allowed"),
             ("eicar.com", EICAR, 422, "file_infected"),
             ("statement.pdf", eicar_pdf, 422, "file_infected"),
             ("notes.txt", b"just text", 422, "file_type_not_allowed"),
             ("page.html", b"<html><script>alert(1)</script></html>", 422, "file_type_not_allowed"),
             ("empty.pdf", b"", 422, "file_empty")]
    for name, data, status, code in cases:
        refused = jan.upload(name, data)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), name
    assert "application/vnd.microsoft.portable-executable" in jan.upload("x.pdf", EXECUTABLE).json()["error"]["message"]
    assert not Attachment.objects.exists() and _stored_files() == []
    run_tasks()
    records = {(r.data["file_name"], r.data["reason"], r.data["found"])
               for r in AuditRecord.objects.filter(event="file.refused")}
    assert ("eicar.com", "infected", "Branchline.Test.EICAR.UNOFFICIAL") in records
    assert ("statement.pdf", "infected", "Branchline.Test.EICAR.UNOFFICIAL") in records
    assert ("invoice.pdf", "type", "application/vnd.microsoft.portable-executable") in records
    assert all(r.actor_kind == "customer" and r.actor_id == jan.customer.id
               for r in AuditRecord.objects.filter(event="file.refused"))


def test_size_and_channel_limits(world, scanning):
    jan = Customer()
    cid = _chat(world, jan)
    channel = channel_web()
    channel.max_file_mb = 1
    channel.save()
    big = PDF + b"%" + b"x" * (1024 * 1024)
    refused = jan.upload("big.pdf", big)
    assert (refused.status_code, refused.json()["error"]["code"]) == (413, "file_too_large")
    assert "1 MB" in refused.json()["error"]["message"]
    # Uploaded while the channel carried images; by the time it is sent, it no longer does.
    photo = jan.upload("a.jpg", photo_with_exif()).json()
    channel.carries_images = False
    channel.save()
    refused = jan.upload("b.jpg", photo_with_exif())
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "channel_cannot_carry")
    refused = jan.send("photo", attachment_id=photo["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "channel_cannot_carry")
    agent = factories.staff_browser(world.agent)
    mine = _staff_upload(agent, cid, "form.pdf", PDF).json()
    channel.carries_documents = channel.carries_location = False
    channel.save()
    # Staff may still upload a document here: a note may carry it (checked when it is sent).
    later = _staff_upload(agent, cid, "scoring.pdf", PDF)
    assert later.status_code == 201, later.content
    for body, code in (({"attachment_id": mine["id"]}, "channel_cannot_carry"),
                       ({"location": {"latitude": 52.23, "longitude": 21.01}}, "channel_cannot_carry")):
        refused = _staff_send(agent, cid, f"c-{code}-{len(body)}", **body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, code), body
    # A note may still carry it: it never goes to the customer.
    noted = _staff_send(agent, cid, "note-1", attachment_id=mine["id"], visibility="staff")
    assert noted.status_code == 201 and noted.json()["message"]["kind"] == "note"
    assert Message.objects.filter(attachment_id=mine["id"]).count() == 1


def test_a_file_is_sent_once_and_only_by_its_uploader(world, scanning):
    jan = Customer()
    cid = _chat(world, jan)
    file = jan.upload("a.pdf", PDF).json()
    first = jan.send("f-1", attachment_id=file["id"])
    again = jan.send("f-1", attachment_id=file["id"])  # a retry of the same send
    assert (first.status_code, again.status_code, again.json()["duplicate"]) == (201, 200, True)
    assert again.json()["message"]["id"] == first.json()["message"]["id"]
    twice = jan.send("f-2", attachment_id=file["id"])
    assert (twice.status_code, twice.json()["error"]["code"]) == (422, "file_already_sent")
    # Another customer, or staff, cannot send what Jan uploaded; nobody opens an unsent file.
    other = jan.upload("b.pdf", PDF).json()
    assert Customer().send("x", attachment_id=other["id"], topic_id=world.topic.id).json()["error"]["code"] == \
        "file_not_found"
    agent = factories.staff_browser(world.agent)
    assert _staff_send(agent, cid, "s-1", attachment_id=other["id"]).json()["error"]["code"] == "file_not_found"
    assert jan.client.get(f"/api/customer/files/{other['id']}").status_code == 404
    assert agent.get(f"/api/staff/files/{other['id']}").status_code == 404
    assert Message.objects.filter(attachment_id=other["id"]).count() == 0


def test_staff_files_notes_and_locations_as_each_reader_sees_them(world, scanning):
    jan = Customer()
    cid = _chat(world, jan)
    agent = factories.staff_browser(world.agent)
    # Staff may not upload into a conversation they cannot see.
    for who in (world.outsider, world.agent2):
        refused = _staff_upload(factories.staff_browser(who), cid, "form.pdf", PDF)
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "conversation_not_found")
    form = _staff_upload(agent, cid, "../../etc/Form A.pdf.exe", PDF).json()
    assert form["name"] == "Form A.pdf.exe.pdf"
    sent = _staff_send(agent, cid, "s-form", body="Please sign this", attachment_id=form["id"])
    assert sent.status_code == 201 and sent.json()["message"]["kind"] == "file"
    secret = _staff_upload(agent, cid, "scoring.pdf", PDF).json()
    assert _staff_send(agent, cid, "s-note", attachment_id=secret["id"], visibility="staff").status_code == 201
    place = _staff_send(agent, cid, "s-loc", body="Our branch", location={"latitude": 52.2297, "longitude": 21.0122})
    assert place.status_code == 201 and place.json()["message"]["location"] == {"latitude": 52.2297,
                                                                                "longitude": 21.0122}
    bad = _staff_send(agent, cid, "s-bad", location={"latitude": 91, "longitude": 0})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "location_invalid")

    history = jan.client.get("/api/customer/messages").json()["messages"]
    kinds = [(m["text"], (m["attachment"] or {}).get("name"), m["location"]) for m in history if m["sender"] == "agent"]
    assert ("Please sign this", "Form A.pdf.exe.pdf", None) in kinds
    assert ("Our branch", None, {"latitude": 52.2297, "longitude": 21.0122}) in kinds
    assert "scoring.pdf" not in str(history)  # the note's file never reaches the customer
    assert jan.client.get(f"/api/customer/files/{form['id']}").status_code == 200
    assert jan.client.get(f"/api/customer/files/{secret['id']}").status_code == 404
    document = jan.client.get(f"/api/customer/files/{form['id']}")
    assert document["Content-Disposition"].startswith("attachment;")  # a document is saved, never shown inline
    assert hashlib.sha256(_body(document)).hexdigest() == hashlib.sha256(PDF).hexdigest()


def test_documents_history_of_a_conversation_or_all_of_the_customers(world, scanning):
    jan = Customer()
    first = _chat(world, jan)
    jan.send("f-1", attachment_id=jan.upload("first.pdf", PDF).json()["id"])
    actions.conversation_end(principal=principal(world.agent), conversation_id=first)
    second = _chat(world, jan, "hello-again")
    jan.send("f-2", attachment_id=jan.upload("second.pdf", PDF).json()["id"])
    agent = factories.staff_browser(world.agent)
    this = agent.get(f"/api/staff/conversations/{second}/files").json()
    everything = agent.get(f"/api/staff/conversations/{second}/files?all=true").json()
    assert [m["attachment"]["name"] for m in this] == ["second.pdf"]
    assert [m["attachment"]["name"] for m in everything] == ["second.pdf", "first.pdf"]
    assert factories.staff_browser(world.outsider).get(f"/api/staff/conversations/{second}/files").status_code == 404


def test_unsent_uploads_are_swept_sent_ones_kept(world, scanning):
    jan = Customer()
    _chat(world, jan)
    kept = jan.upload("kept.pdf", PDF).json()
    jan.send("f-1", attachment_id=kept["id"])
    forgotten = jan.upload("forgotten.pdf", PDF).json()
    assert len(_stored_files()) == 2
    assert actions.attachments_unsent_delete(now=timezone.now() + timedelta(hours=23)) == 0
    assert actions.attachments_unsent_delete(now=timezone.now() + timedelta(hours=25)) == 1
    assert actions.attachments_unsent_delete(now=timezone.now() + timedelta(hours=25)) == 0  # idempotent
    assert list(Attachment.objects.values_list("id", flat=True)) == [kept["id"]]
    assert _stored_files() == [Attachment.objects.get().stored_as]
    assert forgotten["id"] not in Attachment.objects.values_list("id", flat=True)


def test_no_scanner_no_files(world, scanning, settings, tmp_path):
    """Unconfigured, down or hanging: the upload is refused (503), never kept unscanned."""
    jan = Customer()
    _chat(world, jan)
    hanging = socket.socket(socket.AF_UNIX)
    hanging.bind(str(tmp_path / "hang.sock"))
    hanging.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(hanging.accept()), daemon=True).start()
    for address in ("", str(tmp_path / "nothing.sock"), str(tmp_path / "hang.sock")):
        scanner_breaker.succeeded()
        settings.BRANCHLINE = {**settings.BRANCHLINE, "CLAMD": address, "CLAMD_TIMEOUT_SECONDS": 0.5}
        refused = jan.upload("a.pdf", PDF)
        assert (refused.status_code, refused.json()["error"]["code"]) == (503, "scanner_unavailable"), address
    assert not Attachment.objects.exists() and _stored_files() == []
    # Once it failed, the next uploads are refused at once for a pause: no timeout each.
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CLAMD": scanning.socket_path}
    assert jan.upload("a.pdf", PDF).json()["error"]["code"] == "scanner_unavailable"
    hanging.close()


# Files in the permission matrix (tests/test_permission_matrix.py has the conversation's actions):
# uploading into an active conversation (staff; a customer's upload names no conversation), and
# opening the customer's file and a note's file.
#            other_c  customer  outsider agent2  assigned supervisor                admin                 auditor
FILE_MATRIX = {
    "upload": ["n/a",  "n/a",    "404",   "404",  "201",   "403:not_a_participant", "403:role_read_only", "403:role_read_only"],
    "open":   ["404",  "200",    "404",   "404",  "200",   "200",                   "200",                "200"],
    "open_note": ["404", "404",  "404",   "404",  "200",   "200",                   "200",                "200"],
}
WHO = ["other_customer", "customer", "outsider", "agent2", "assigned", "supervisor", "admin", "auditor"]


@pytest.mark.parametrize("who", WHO)
def test_file_permission_matrix(world, scanning, who):
    jan = Customer()
    cid = _chat(world, jan)
    theirs = jan.upload("id card.jpg", photo_with_exif()).json()
    jan.send("f-1", attachment_id=theirs["id"])
    assigned = factories.staff_browser(world.agent)
    note = _staff_upload(assigned, cid, "scoring.pdf", PDF).json()
    _staff_send(assigned, cid, "n-1", attachment_id=note["id"], visibility="staff")
    staff = {"outsider": world.outsider, "agent2": world.agent2, "assigned": world.agent,
             "supervisor": world.supervisor, "admin": world.admin, "auditor": world.auditor}.get(who)
    if staff is not None:
        client, files = factories.staff_browser(staff), "/api/staff/files"
    else:
        client = (jan if who == "customer" else Customer()).client
        files = "/api/customer/files"
    column = WHO.index(who)
    before = (Attachment.objects.count(), Message.objects.count())

    def outcome(response):
        code = f":{response.json()['error']['code']}" if response.status_code >= 400 and \
            response.status_code != 404 else ""
        return f"{response.status_code}{code}"

    if FILE_MATRIX["upload"][column] != "n/a":
        uploaded = _staff_upload(client, cid, "form.pdf", PDF)
        assert outcome(uploaded) == FILE_MATRIX["upload"][column]
        if uploaded.status_code != 201:
            assert (Attachment.objects.count(), Message.objects.count()) == before  # nothing kept
    assert outcome(client.get(f"{files}/{theirs['id']}")) == FILE_MATRIX["open"][column]
    assert outcome(client.get(f"{files}/{note['id']}")) == FILE_MATRIX["open_note"][column]


def test_what_clamd_will_not_take_is_too_large_and_the_scanner_stays_in_use(world, scanning, settings):
    with Scanner(stream_max="1M") as small:
        settings.BRANCHLINE = {**settings.BRANCHLINE, "CLAMD": small.socket_path}
        jan = Customer()
        _chat(world, jan)
        refused = jan.upload("big.pdf", PDF + b"%" + b"x" * (2 * 1024 * 1024))
        assert (refused.status_code, refused.json()["error"]["code"]) == (413, "file_too_large")
        assert jan.upload("small.pdf", PDF).status_code == 201  # not taken for an outage


def test_a_scanner_whose_backlog_is_full_costs_one_timeout(world, scanning, settings, tmp_path):
    """connect() itself hangs: the timeout must be set before it (clamav-client sets it after)."""
    jan = Customer()
    _chat(world, jan)
    full = socket.socket(socket.AF_UNIX)
    full.bind(str(tmp_path / "full.sock"))
    full.listen(0)
    queued = []
    for _ in range(3):  # fill the backlog: nobody accepts
        waiting = socket.socket(socket.AF_UNIX)
        waiting.setblocking(False)
        try:
            waiting.connect(str(tmp_path / "full.sock"))
        except BlockingIOError:
            pass
        queued.append(waiting)
    settings.BRANCHLINE = {**settings.BRANCHLINE, "CLAMD": str(tmp_path / "full.sock"), "CLAMD_TIMEOUT_SECONDS": 0.5}
    started = time.monotonic()
    refused = jan.upload("a.pdf", PDF)
    assert (refused.status_code, refused.json()["error"]["code"]) == (503, "scanner_unavailable")
    assert time.monotonic() - started < 3
    for waiting in queued:
        waiting.close()
    full.close()


def test_guests_attach_in_their_conversation_and_nobody_hoards_unsent_files(world, scanning, settings):
    _guest, token = factories.customer_with_token()
    guest = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    refused = guest.post("/api/customer/files", {"file": _file("a.pdf", PDF)})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conversation_required")
    settings.BRANCHLINE = {**settings.BRANCHLINE, "ATTACHMENTS_UNSENT_MAX": 2}
    jan = Customer()
    assert [jan.upload(f"{n}.pdf", PDF).status_code for n in range(3)] == [201, 201, 409]
    assert jan.upload("x.pdf", PDF).json()["error"]["code"] == "too_many_unsent_files"
    assert Attachment.objects.count() == 2


def test_staff_files_go_to_the_conversation_they_were_uploaded_for(world, scanning):
    first = _chat(world, Customer())
    second = _chat(world, Customer(), "hello-2")
    agent = factories.staff_browser(world.agent)
    form = _staff_upload(agent, first, "form.pdf", PDF).json()
    refused = _staff_send(agent, second, "s-1", attachment_id=form["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "file_not_found")
    # Another line's agent learns nothing of a conversation by sending a file or a place to it.
    for body in ({"location": {"latitude": 1, "longitude": 1}}, {"attachment_id": form["id"]}):
        probe = _staff_send(factories.staff_browser(world.outsider), first, "p-1", **body)
        assert (probe.status_code, probe.json()["error"]["code"]) == (404, "conversation_not_found")


def test_bad_places_and_file_names(world, scanning):
    cid = _chat(world, Customer())
    agent = factories.staff_browser(world.agent)
    for place in ({"latitude": "NaN", "longitude": 0}, {"latitude": 0, "longitude": "Infinity"}):
        refused = agent.post(f"/api/staff/conversations/{cid}/messages",
                             '{"client_message_id": "l-1", "location": %s}' % str(place).replace("'", '"'),
                             content_type="application/json", HTTP_X_CSRFTOKEN=agent.csrf)
        assert refused.status_code == 422, refused.content
    disguised = _staff_upload(agent, cid, "photo\u202egpj.pdf", PDF).json()
    assert disguised["name"] == "photogpj.pdf"


def test_documents_of_earlier_conversations_open_for_whoever_handles_the_customer_now(world, scanning):
    jan = Customer()
    first = _chat(world, jan)
    jan.send("f-1", attachment_id=jan.upload("first.pdf", PDF).json()["id"])
    actions.conversation_end(principal=principal(world.agent), conversation_id=first)
    sent = jan.send("hello-2", body="Hello again", topic_id=world.topic.id)
    actions.conversation_accept(principal=principal(world.agent2), conversation_id=sent.json()["message"]["conversation_id"])
    other = factories.staff_browser(world.agent2)
    documents = other.get(f"/api/staff/conversations/{sent.json()['message']['conversation_id']}/files?all=true").json()
    assert [m["attachment"]["name"] for m in documents] == ["first.pdf"]
    assert other.get(f"/api/staff/files/{documents[0]['attachment']['id']}").status_code == 200


def test_a_barred_customer_attaches_nothing(world, scanning):
    jan = Customer()
    cid = _chat(world, jan)
    actions.customer_bar(principal=principal(world.agent), conversation_id=cid, reason="Spam")
    refused = jan.upload("a.pdf", PDF)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "customer_barred")
    assert not Attachment.objects.exists() and _stored_files() == []
