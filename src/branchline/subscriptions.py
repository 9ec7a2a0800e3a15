"""Who hears which domain event: the one explicit subscriber table (house rule 4).

Inline subscribers run after commit in the action's thread and must be fast (socket
delivery). Durable subscribers are tasks, enqueued inside the action's transaction (the
outbox) and run by a worker: `manage.py db_worker`, or the in-process worker of embedded
deployments (realtime/lifespan.py). A subscriber of a base event class hears all of its
subclasses."""
from branchline.accounts import events as accounts
from branchline.audit import events as audit
from branchline.audit.tasks import record_event
from branchline.conversations import events as conversations
from branchline.events import Subscriptions
from branchline.realtime import notify

SUBSCRIPTIONS = Subscriptions(
    inline={
        conversations.MessageAdded: (notify.message_added,),
        conversations.ConversationChanged: (notify.conversation_changed,),
        conversations.ReceiptUpdated: (notify.receipt_updated,),
        conversations.TypingChanged: (notify.typing_changed,),
        conversations.StaffViewing: (notify.staff_viewing,),
        accounts.SessionEnded: (notify.session_ended,),
    },
    durable={
        # Every change of who handles a conversation, or of its state (a message is its
        # own record and is not audited twice).
        conversations.ConversationChanged: (record_event,),
        # Who barred which customer, and who lifted it.
        conversations.CustomerBarred: (record_event,),
        # Who read which customer's data (staff only; once per reader, customer, kind and window).
        conversations.CustomerDataRead: (record_event,),
        # Files refused (malware, a forbidden type) and customers' files staff opened.
        conversations.FileRefused: (record_event,),
        conversations.FileOpened: (record_event,),
        # Security: who was kept out, and who changed who may come in.
        accounts.AccessRefused: (record_event,),
        accounts.AllowListChanged: (record_event,),
        accounts.ClaimMappingChanged: (record_event,),
        # Who signed in through the bank's provider, and how.
        accounts.CustomerSignedIn: (record_event,),
        accounts.CustomerSignedOutAtBank: (record_event,),
        accounts.SecondFactorEnrolled: (record_event,),
        accounts.StaffIdentityLinked: (record_event,),
        # Administration: every change of staff, lines of business, case types, topics and
        # channels, and every second factor reset.
        accounts.AdministrationChanged: (record_event,),
        accounts.SecondFactorReset: (record_event,),
        # Technical accounts: every change, and every use.
        accounts.ApiTokenChanged: (record_event,),
        accounts.ApiTokenUsed: (record_event,),  # and ApiTokenRefused, its subclass
        # The trail's own retention (its pruning, audit.pruned, is recorded by the pruning itself).
        audit.AuditRetentionSet: (record_event,),
        audit.AuditTrailRead: (record_event,),
    },
)
