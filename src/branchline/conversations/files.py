"""What a file sent in a conversation is, judged from its bytes (docs/adr/0021): its type
sniffed by libmagic (python-magic), never taken from its name or the browser's word; the
types a bank's customers and staff exchange, and no others; images re-encoded by Pillow so
that what leaves the bank carries no EXIF (where, when, on what device) or other metadata."""
import io
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass

import magic
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from branchline.core.errors import InvalidInput

from .models import FileCategory


@dataclass(frozen=True)
class FileType:
    content_type: str  # what it is served as
    category: str  # FileCategory
    extension: str  # the one its name gets, if it has none of `extensions`
    extensions: tuple[str, ...] = ()


# libmagic's answer -> what it is to us. Recordings from browsers are WebM (Chromium) or Ogg
# (Firefox) holding Opus sound: libmagic names WebM "video/webm", and the composer records sound only.
ALLOWED = {
    "application/pdf": FileType("application/pdf", FileCategory.DOCUMENT, ".pdf"),
    "application/msword": FileType("application/msword", FileCategory.DOCUMENT, ".doc"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", FileCategory.DOCUMENT, ".docx"),
    "image/jpeg": FileType("image/jpeg", FileCategory.IMAGE, ".jpg", (".jpeg", ".jpe")),
    "image/png": FileType("image/png", FileCategory.IMAGE, ".png"),
    "audio/mpeg": FileType("audio/mpeg", FileCategory.AUDIO, ".mp3"),
    "video/webm": FileType("audio/webm", FileCategory.AUDIO, ".webm"),
    "audio/webm": FileType("audio/webm", FileCategory.AUDIO, ".webm"),
    "audio/ogg": FileType("audio/ogg", FileCategory.AUDIO, ".ogg", (".oga", ".opus")),
    "video/mp4": FileType("video/mp4", FileCategory.VIDEO, ".mp4", (".m4v",)),
}
ALLOWED_NAMES = "PDF, DOC, DOCX, JPEG, PNG, MP3, MP4"
_SNIFF_BYTES = 64 * 1024  # enough for libmagic's tests on a zip's (docx) first entries


def sniffed_type(data: bytes) -> str:
    """libmagic's name for the content's type ("application/pdf")."""
    return magic.from_buffer(data[:_SNIFF_BYTES], mime=True)


def sniff(data: bytes) -> FileType:
    """The file's type from its content; InvalidInput (file_type_not_allowed) for any other."""
    found = sniffed_type(data)
    allowed = ALLOWED.get(found)
    if allowed is None:
        raise InvalidInput(_("This kind of file cannot be sent (it is %(found)s). Files may be: %(allowed)s.")
                           % {"found": found, "allowed": ALLOWED_NAMES}, code="file_type_not_allowed")
    return allowed


def without_metadata(data: bytes, kind: FileType) -> bytes:
    """An image's pixels in a new file of its type, turned upright as its EXIF said, with no
    EXIF, text chunks or comments (its colour profile kept); anything else as it came."""
    if kind.category != FileCategory.IMAGE:
        return data
    limit = settings.BRANCHLINE["IMAGE_MAX_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as image:
                if image.width * image.height > limit:
                    raise Image.DecompressionBombError(image.size)
                upright = ImageOps.exif_transpose(image)
                fresh = Image.new(upright.mode, upright.size)  # pixels only: no info, no EXIF
                fresh.paste(upright)
                if upright.mode == "P":
                    fresh.putpalette(upright.getpalette())
                kept = {key: image.info[key] for key in ("icc_profile", "transparency") if key in image.info}
                out = io.BytesIO()
                if kind.content_type == "image/jpeg":
                    kept.pop("transparency", None)
                    fresh.save(out, "JPEG", quality=90, **kept)
                else:
                    fresh.save(out, "PNG", **kept)
                return out.getvalue()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(_("The image is too large: at most %(limit)s million pixels.")
                           % {"limit": limit // 1_000_000}, code="file_too_large") from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's word for a broken image
        raise InvalidInput(_("The image cannot be read: %(error)s") % {"error": error},
                           code="file_unreadable") from None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def display_name(name: str, kind: FileType) -> str:
    """The uploader's name for the file, safe to show and to offer as a download's name (no
    path, control or reserved characters, at most 120 characters), ending in an extension of
    its sniffed type: "invoice.pdf.exe" that is a PDF becomes "invoice.pdf.exe.pdf"."""
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    # No invisible format characters: a right-to-left override makes "photo\u202egpj.pdf" read "photofdp.jpg".
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    name = _UNSAFE.sub("_", name).strip(" .") or "file"
    stem, extension = os.path.splitext(name)
    if extension.lower() not in (kind.extension, *kind.extensions):
        stem, extension = name, kind.extension
    return stem[:120 - len(extension)] + extension
