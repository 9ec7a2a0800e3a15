"""A believable demo bank, loaded by `make demo`. Idempotent: running it again finds
everything by its natural key and adds nothing."""
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from branchline.accounts.actions import demo_customers_issuer
from branchline.accounts.models import LineOfBusiness, Role, User
from branchline.accounts.permissions import HANDLING_ROLES
from branchline.accounts.principals import Principal
from branchline.cases.actions import case_statuses_ensure
from branchline.cases.models import Case, CaseStatus, CaseType, Topic
from branchline.connectors.actions import channel_web
from branchline.contacts.models import Contact, Customer
from branchline.conversations import actions
from branchline.conversations.models import Conversation, Message, Tag
from branchline.knowledge.models import QuickAnswer
from branchline.routing.actions import queue_default_ensure
from branchline.routing.models import ChannelGrant, Queue, QueueMember

DEMO_PASSWORD = "branchline-demo"

STAFF = [
    ("admin", "Alicja", "Admin", Role.ADMIN),
    ("supervisor", "Stefan", "Supervisor", Role.SUPERVISOR),
    ("anna", "Anna", "Nowicka", Role.AGENT),
    ("ben", "Ben", "Carter", Role.AGENT),
    ("olga", "Olga", "Ivanova", Role.AGENT),
    ("auditor", "Ada", "Auditor", Role.AUDITOR),
]
TOPICS = [  # topic -> case type, in the order customers see them
    ("Cards", "Card services"),
    ("Loans", "Lending"),
    ("Mortgage", "Mortgages"),
    ("Accounts", "Accounts and payments"),
]
CUSTOMERS = [
    ("jan.kowalski", "Jan Kowalski", "jan.kowalski@example.test"),
    ("maria.silva", "Maria Silva", "maria.silva@example.test"),
]
# The demo's bank (scripts/demo_idp.py, and the browser tests' `bank` mark): the OpenID
# client Branchline is at its provider, and the customers' accounts there (password
# DEMO_PASSWORD), with the claims the claim mapping may show agents.
DEMO_BANK_CLIENT = ("branchline-demo", "branchline-demo-secret")
DEMO_BANK_CLAIMS = {"jan.kowalski": {"customer_number": "40011872", "segment": "Premium"},
                    "maria.silva": {"customer_number": "40023391", "segment": "Retail"}}


def demo_bank_accounts() -> dict[str, dict]:
    return {subject: {"password": DEMO_PASSWORD,
                      "claims": {"name": name, "email": email, **DEMO_BANK_CLAIMS.get(subject, {})}}
            for subject, name, email in CUSTOMERS}


HISTORY = {
    "jan.kowalski": [
        ("Cards", 9, "anna", [
            ("customer", "Hello, my card was declined at a shop this morning."),
            ("agent", "Good morning Jan, let me check. I can see a temporary block after three wrong PIN entries."),
            ("customer", "Ah, that was me. Can you unblock it?"),
            ("agent", "Done: the block is lifted. Please try again in a few minutes."),
            ("customer", "Works now, thank you!"),
        ]),
        ("Mortgage", 2, "ben", [
            ("customer", "I'd like to know what documents I need for a mortgage application."),
            ("agent", "You'll need proof of income for the last 3 months, your ID and the property details."),
            ("customer", "Can I send the documents here in the chat?"),
            ("agent", "Yes, once document upload is enabled for your account. I'll note your case in the meantime."),
        ]),
    ],
    "maria.silva": [
        ("Accounts", 5, "olga", [
            ("customer", "How do I set up a standing order?"),
            ("agent", "In mobile banking: Payments > Standing orders > New. Would you like me to guide you?"),
            ("customer", "I found it, thanks."),
        ]),
    ],
}

# The line's queues besides its default one, who serves each (the default: every agent and
# the supervisor), and the topics that send their conversations there.
QUEUES = {"Mortgages": ("ben", "olga", "supervisor")}  # Anna does not see mortgage questions
QUEUE_OF_TOPIC = {"Mortgage": "Mortgages"}


def _queues(lob: LineOfBusiness, staff: dict[str, User]) -> dict[str, Queue]:
    """The default queue and QUEUES, their members, and every handling member of staff
    granted the web channel."""
    handling = [user for user in staff.values() if user.role in HANDLING_ROLES]
    queues = {None: queue_default_ensure(lob.id)}
    for name in QUEUES:
        queues[name], _ = Queue.objects.get_or_create(line_of_business=lob, name=name)
    QueueMember.objects.bulk_create([QueueMember(queue=queues[None], user=user) for user in handling]
                                    + [QueueMember(queue=queues[name], user=staff[username])
                                       for name, usernames in QUEUES.items() for username in usernames],
                                    ignore_conflicts=True)
    ChannelGrant.objects.bulk_create([ChannelGrant(user=user, channel=channel_web()) for user in handling],
                                     ignore_conflicts=True)
    return queues


TAGS = ["Complaint", "Fraud suspicion", "VIP"]
# The line's quick answers: (category, title, text).
QUICK_ANSWERS = [
    ("Greetings", "Hello", "Good morning, thank you for writing to us. How can I help you today?"),
    ("Greetings", "Anything else?", "Is there anything else I can help you with?"),
    ("Greetings", "Goodbye", "Thank you for contacting the bank. Have a good day!"),
    ("Cards", "Card blocked after wrong PINs",
     "Your card was blocked after three wrong PIN entries. I have lifted the block: please try again shortly."),
    ("Cards", "Lost or stolen card",
     "I have blocked your card so nobody can use it. A new card will reach you within 5 working days."),
    ("Mortgages", "Documents for an application",
     "For a mortgage application we need proof of income for the last 3 months, your ID and the property details."),
]


# Where the agent left each past case (the Cases module shows them); the rest stay in "Open".
CASE_STATUSES = {("jan.kowalski", "Cards"): "Resolved", ("jan.kowalski", "Mortgage"): "Waiting for the customer",
                 ("maria.silva", "Accounts"): "Resolved"}


# The customer base agents relate anonymous chats to (docs/protocol.md §17): first and last
# name, e-mail, phone, company, address.
CONTACTS = [
    ("Piotr", "Zieliński", "piotr.zielinski@example.pl", "+48 601 234 567", "", "ul. Długa 5, 80-827 Gdańsk"),
    ("Anna", "Wiśniewska", "", "+48 502 111 222", "Wiśniewska Design", ""),
    ("Marco", "Rossi", "marco.rossi@example.it", "+39 333 123 4567", "", "Via Roma 10, Milano"),
    ("Olga", "Smirnova", "olga.smirnova@example.com", "", "", ""),
]


@transaction.atomic
def seed() -> dict:
    lob, _ = LineOfBusiness.objects.get_or_create(name="Retail Banking")
    staff = {}
    for username, first, last, role in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "role": role, "line_of_business": lob,
                      "is_staff": role == Role.ADMIN, "is_superuser": role == Role.ADMIN},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        staff[username] = user
    case_statuses_ensure(lob.id)
    queues = _queues(lob, staff)
    for name in TAGS:
        Tag.objects.get_or_create(line_of_business=lob, name=name)
    for first, last, email, phone, company, address in CONTACTS:
        Contact.objects.get_or_create(line_of_business=lob, first_name=first, last_name=last, defaults={
            "email": email, "phone": phone, "company": company, "address": address, "created_by": "Demo"})
    for position, (category, title, body) in enumerate(QUICK_ANSWERS):
        QuickAnswer.objects.get_or_create(line_of_business=lob, category=category, title=title,
                                          defaults={"body": body, "position": position})
    topics = {}
    for position, (topic_name, case_type_name) in enumerate(TOPICS):
        case_type, _ = CaseType.objects.get_or_create(line_of_business=lob, name=case_type_name)
        topic, _ = Topic.objects.get_or_create(name=topic_name, defaults={
            "case_type": case_type, "position": position, "queue": queues.get(QUEUE_OF_TOPIC.get(topic_name))})
        topics[topic_name] = topic
    past = []
    for subject, name, email in CUSTOMERS:
        customer, _ = Customer.objects.get_or_create(
            is_authenticated=True, sso_issuer=demo_customers_issuer(), sso_subject=subject,
            defaults={"name": name, "email": email},
        )
        if not Conversation.objects.filter(customer=customer).exists():
            past += [(days_ago, subject, customer, topic_name, agent, lines)
                     for topic_name, days_ago, agent, lines in HISTORY.get(subject, [])]
    # Oldest first, as they happened: ids then follow creation times, as in a bank's own data.
    for days_ago, subject, customer, topic_name, agent, lines in sorted(past, key=lambda p: -p[0]):
        _replay(customer, topics[topic_name], staff[agent], lines, days_ago, CASE_STATUSES.get((subject, topic_name)))
    return {"staff": [s[0] for s in STAFF], "customers": [c[0] for c in CUSTOMERS]}


def _replay(customer, topic, agent, lines, days_ago, status_name: str | None) -> None:
    """Play a past conversation through the real actions, then date it in the past."""
    me, them = Principal.of_customer(customer), Principal.of_staff(agent)
    conversation_id = None
    for index, (sender, text) in enumerate(lines):
        cid = f"demo-{topic.id}-{index}"
        if sender == "customer":
            message, _ = actions.customer_message_send(principal=me, body=text, client_message_id=cid,
                                                       topic_id=topic.id)
            if conversation_id is None:
                conversation_id = message.conversation_id
                actions.conversation_accept(principal=them, conversation_id=conversation_id)
        else:
            actions.staff_message_send(principal=them, conversation_id=conversation_id, body=text,
                                       client_message_id=cid)
    actions.conversation_end(principal=them, conversation_id=conversation_id)
    conversation = Conversation.objects.get(pk=conversation_id)
    if status_name:
        status = CaseStatus.objects.get(line_of_business_id=conversation.line_of_business_id, name=status_name)
        actions.case_status_set(principal=them, case_id=conversation.case_id, status_id=status.id)
    actions.receipt_update(principal=me, conversation_id=conversation_id, read_seq=conversation.last_seq)
    actions.receipt_update(principal=them, conversation_id=conversation_id, read_seq=conversation.last_staff_seq)
    start = timezone.now() - timedelta(days=days_ago)
    for message in Message.objects.filter(conversation_id=conversation.pk).order_by("staff_seq"):
        Message.objects.filter(pk=message.pk).update(created_at=start + timedelta(minutes=2 * message.staff_seq))
    end = start + timedelta(minutes=2 * conversation.last_staff_seq)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=start, accepted_at=start, ended_at=end,
                                                           last_message_at=end)
    case = Case.objects.get(pk=conversation.case_id)
    Case.objects.filter(pk=case.pk).update(created_at=start, updated_at=end,
                                           resolved_at=end if case.resolved_at else None)
