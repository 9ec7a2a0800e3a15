"""Files in real chromium (issue 8, docs/protocol.md §16), scanned by a real clamd: a guest sends a
phone photo, which the agent sees without its EXIF and opens; the EICAR test file and a disguised
program are refused in the widget with a clear sentence; the agent sends a form, which the guest
saves; both are listed under Documents."""
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import agent_takes_a_guest
from tests.support.clamd import EICAR

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXECUTABLE = b"MZ\x90\x00" + b"\0" * 56 + b"\x80\0\0\0" + b"\0" * 64 + b"PE\0\0" + b"\0" * 200


def _photo() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "BankCam"
    exif[0x8825] = {1: "N", 2: (52.0, 13.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _pick(page, name: str, data: bytes, mime: str = "application/octet-stream"):
    page.set_input_files("#file-input", files=[{"name": name, "mimeType": mime, "buffer": data}])


def _shown(image) -> bool:
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_files_both_ways_scanned_and_opened(browser, demo_server, artifacts_dir):
    errors: list[str] = []
    frames: list[str] = []
    context, customer, anna, conversation = agent_takes_a_guest(browser, demo_server.url, errors, frames,
                                                                "I lost my card [files 1]")

    # The guest sends a photo of the card with a caption.
    expect(customer.locator("#attach")).to_be_visible()
    _pick(customer, "card photo.jpg", _photo(), "image/jpeg")
    expect(customer.locator("#attached")).to_contain_text("card photo.jpg")
    customer.fill("#body", "This is the card [files 2]")
    customer.press("#body", "Enter")
    mine = customer.locator("#messages li.msg.mine").filter(has_text="[files 2]")
    expect(mine.locator("img.attachment-image")).to_be_visible()
    customer.wait_for_function("() => [...document.querySelectorAll('#messages img.attachment-image')]"
                               ".some(i => i.complete && i.naturalWidth > 0)")

    # The agent sees it, and opens it: no EXIF left.
    item = anna.locator("#messages li.msg.theirs").filter(has_text="[files 2]")
    expect(item.locator("img.attachment-image")).to_be_visible()
    anna.wait_for_function("() => [...document.querySelectorAll('#messages img.attachment-image')]"
                           ".some(i => i.complete && i.naturalWidth > 0)")
    with anna.expect_download() as saving:
        item.locator("a.attachment-link").click()
    saved = Image.open(saving.value.path())
    assert (saved.size, dict(saved.getexif())) == ((64, 48), {})
    anna.screenshot(path=str(artifacts_dir / "console-file.png"))

    # Malware and a disguised program are refused in the widget, saying why; nothing reaches Anna.
    for name, data, says in (("eicar.com", EICAR, "malware"), ("statement.pdf", EXECUTABLE, "cannot be sent")):
        _pick(customer, name, data)
        customer.press("#body", "Enter")
        expect(customer.locator("#composer-error")).to_contain_text(says)
    customer.screenshot(path=str(artifacts_dir / "widget-file-refused.png"))
    expect(anna.locator("#messages")).not_to_contain_text("eicar.com")

    # Anna sends a form; the guest saves it.
    _pick(anna, "Card replacement form.pdf", PDF, "application/pdf")
    expect(anna.locator("#attached")).to_contain_text("Card replacement form.pdf")
    anna.fill("#body", "Please sign this [files 3]")
    anna.press("#body", "Enter")
    expect(anna.locator("#messages li.msg.mine").filter(has_text="[files 3]")).to_contain_text(
        "Card replacement form.pdf")
    theirs = customer.locator("#messages li.msg.theirs").filter(has_text="[files 3]")
    with customer.expect_download() as saving:
        theirs.locator("a.attachment-link").click()
    assert (saving.value.suggested_filename, open(saving.value.path(), "rb").read()) == (
        "Card replacement form.pdf", PDF)
    customer.screenshot(path=str(artifacts_dir / "widget-files.png"))

    # Documents lists both, newest first.
    expect(anna.locator("#documents li")).to_have_count(2)
    expect(anna.locator("#documents li").first).to_contain_text("Card replacement form.pdf")
    expect(anna.locator("#documents li").nth(1)).to_contain_text("card photo.jpg")
    # The two refused uploads are the only failed requests (chromium logs each).
    refused = [e for e in errors if "status of 422" in e]
    assert len(refused) == 2 and [e for e in errors if e not in refused] == [], "\n".join(errors)
