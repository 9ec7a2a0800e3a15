"""Files in conversations over HTTP (docs/protocol.md §16, docs/adr/0021): upload one to send,
download one, and a conversation's or customer's documents. Sending is the usual message send
with the upload's `attachment_id`."""
from django.http import FileResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from branchline.accounts.auth import customer_auth, staff_auth
from branchline.core.schemas import ErrorOut

from . import selectors
from .actions.files import attachment_open, attachment_upload, attachments_storage
from .payloads import message_for_staff
from .schemas import AttachmentOut, StaffMessageOut

router = Router()
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut,
          503: ErrorOut}
# Shown in the page that asked for them (an <img>, <audio>, <video>); anything else is saved.
_INLINE = ("image", "audio", "video")


def _uploaded(attachment) -> dict:
    return {"id": attachment.id, "name": attachment.name, "content_type": attachment.content_type,
            "category": attachment.category, "size": attachment.size}


@router.post("/customer/files", auth=customer_auth, response={201: AttachmentOut, **ERRORS}, tags=["customer"],
             summary="Upload a file to send (multipart field `file`): scanned, its type sniffed; then send it "
                     "with POST /customer/messages and its attachment_id")
def customer_file_upload(request, file: File[UploadedFile]):
    return Status(201, _uploaded(attachment_upload(principal=request.principal, upload=file)))


@router.post("/staff/conversations/{conversation_id}/files", auth=staff_auth, response={201: AttachmentOut, **ERRORS},
             tags=["staff"], summary="Upload a file to send in this conversation (multipart field `file`); then send "
                                     "it as a message or a note with its attachment_id")
def staff_file_upload(request, conversation_id: int, file: File[UploadedFile]):
    return Status(201, _uploaded(attachment_upload(principal=request.principal, upload=file,
                                                   conversation_id=conversation_id)))


def _download(request, attachment_id: int) -> FileResponse:
    attachment, _message = attachment_open(principal=request.principal, attachment_id=attachment_id)
    inline = attachment.category in _INLINE
    response = FileResponse(attachments_storage().open(attachment.stored_as), content_type=attachment.content_type,
                            as_attachment=not inline, filename=attachment.name)
    # Never run as a page, whatever it holds; kept only in the reader's own browser.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"  # a shared device's next reader gets nothing from its cache
    return response


@router.get("/customer/files/{attachment_id}", auth=customer_auth, response={200: None, **ERRORS},
            tags=["customer"], summary="Download a file of your conversations")
def customer_file(request, attachment_id: int):
    return _download(request, attachment_id)


@router.get("/staff/files/{attachment_id}", auth=staff_auth, response={200: None, **ERRORS}, tags=["staff"],
            summary="Download a file of a conversation you may see (recorded in the audit trail)")
def staff_file(request, attachment_id: int):
    return _download(request, attachment_id)


class DocumentsQuery(Schema):
    all: bool = False


@router.get("/staff/conversations/{conversation_id}/files", auth=staff_auth,
            response={200: list[StaffMessageOut], **ERRORS}, tags=["staff"],
            summary="The files exchanged in this conversation, or with all=true in all the customer's "
                    "conversations (newest first, at most 200)")
def staff_documents(request, conversation_id: int, query: Query[DocumentsQuery]):
    return [message_for_staff(message)
            for message in selectors.documents_for_staff(request.principal, conversation_id, everything=query.all)]
