"""What an upload costs (docs/adr/0021): scanning by a real clamd, sniffing, re-encoding an image
without its metadata, storing; per file type and size, against the scanner alone.

    .venv/bin/python bench/files.py                 # 10 rounds each
    .venv/bin/python bench/files.py --rounds 30

Starts its own clamd with the test signatures (tests/support/clamd.py), talks to nothing else,
stores into a temporary folder and deletes it; runs the action in this process on a throw-away
SQLite database (the storage and the scan dominate, not the row)."""
import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ["DJANGO_SETTINGS_MODULE"] = "branchline.settings.test"
os.environ.setdefault("BRANCHLINE_ATTACHMENTS_DIR", tempfile.mkdtemp(prefix="bench-attachments-"))

import django  # noqa: E402

django.setup()

from clamav_client.clamd import ClamdUnixSocket  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from PIL import Image  # noqa: E402
from tests import factories  # noqa: E402
from tests.factories import principal  # noqa: E402
from tests.support.clamd import Scanner  # noqa: E402

from branchline.conversations.actions.files import attachment_upload  # noqa: E402


def _samples() -> dict[str, tuple[str, bytes]]:
    def photo(width, height):
        out = io.BytesIO()
        pixels = os.urandom(width * height * 3)  # noise: the worst case for the encoder
        Image.frombytes("RGB", (width, height), pixels).save(out, "JPEG", quality=90, exif=_exif())
        return out.getvalue()

    pdf = b"%PDF-1.4\n%" + os.urandom(16) + b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    return {
        "pdf 100 KB": ("a.pdf", pdf + os.urandom(100 * 1024)),
        "pdf 5 MB": ("b.pdf", pdf + os.urandom(5 * 1024 * 1024)),
        "pdf 19 MB": ("c.pdf", pdf + os.urandom(19 * 1024 * 1024)),
        "jpeg 1280×960 (phone, sent)": ("p.jpg", photo(1280, 960)),
        "jpeg 4000×3000 (12 MP)": ("q.jpg", photo(4000, 3000)),
    }


def _exif():
    exif = Image.Exif()
    exif[0x010F] = "BankCam"
    return exif.tobytes()


def _ms(values):
    values = sorted(values)
    return f"{statistics.median(values) * 1000:8.1f} {values[int(len(values) * 0.9)] * 1000:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    setup_test_environment()
    settings.DATABASES["default"]["NAME"] = os.path.join(tempfile.mkdtemp(prefix="bench-files-"), "db.sqlite3")
    call_command("migrate", verbosity=0)
    customer = principal(factories.customer(authenticated=True))  # a guest would need an open conversation
    with Scanner() as scanner:
        settings.BRANCHLINE = {**settings.BRANCHLINE, "CLAMD": scanner.socket_path, "FILE_UPLOADS_PER_MINUTE": 10**6,
                               "ATTACHMENTS_UNSENT_MAX": 10**6}
        client = ClamdUnixSocket(scanner.socket_path, timeout=30)
        print(f"{'file':30} {'bytes':>10} | scan only: median p90 ms | whole upload: median p90 ms")
        for label, (name, data) in _samples().items():
            scans, uploads = [], []
            for _ in range(args.rounds):
                started = time.perf_counter()
                client.instream(io.BytesIO(data))
                scans.append(time.perf_counter() - started)
                started = time.perf_counter()
                attachment_upload(principal=customer, upload=SimpleUploadedFile(name, data))
                uploads.append(time.perf_counter() - started)
            print(f"{label:30} {len(data):10} | {_ms(scans)}           | {_ms(uploads)}")


if __name__ == "__main__":
    main()
