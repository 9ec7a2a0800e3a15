"""A real ClamAV scanner for the tests and the demo: Debian's clamd (package clamav-daemon,
installed by `make scanner`), started on a local socket of its own, by its own pid, with only
our signature database (tests/support/clamav/: the EICAR test string, matched anywhere in a
file). freshclam's official database needs the internet; a bank mirrors it into its own
DatabaseDirectory (docs/adr/0021).

    with Scanner() as scanner:
        settings.BRANCHLINE["CLAMD"] = scanner.socket_path

    python tests/support/clamd.py --socket var/clamd/clamd.sock   # until stopped (the demo)
"""
import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from clamav_client.clamd import ClamdError, ClamdUnixSocket

DATABASE = Path(__file__).resolve().parent / "clamav"
# The EICAR test file: every scanner reports it, and it harms nothing.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Branchline.Test.EICAR.UNOFFICIAL"


def clamd_binary() -> str:
    found = shutil.which("clamd") or next((p for p in ("/usr/sbin/clamd",) if os.path.exists(p)), None)
    if found is None:
        raise RuntimeError("clamd is not installed: run `make scanner` (Debian's clamav-daemon)")
    return found


class Scanner:
    def __init__(self, socket_path: str | None = None, stream_max: str = "64M"):
        self.stream_max = stream_max
        self.dir = tempfile.mkdtemp(prefix="branchline-clamd-")
        self.socket_path = socket_path or os.path.join(self.dir, "clamd.sock")
        self.process: subprocess.Popen | None = None

    def _config(self) -> str:
        path = os.path.join(self.dir, "clamd.conf")
        Path(path).write_text("\n".join([
            f"LocalSocket {self.socket_path}",
            "LocalSocketMode 600",
            f"DatabaseDirectory {DATABASE}",
            f"TemporaryDirectory {self.dir}",
            "Foreground yes",
            "LogSyslog no",
            "LogTime yes",
            # As large as the server's largest file and more: clamd refuses a longer stream.
            f"StreamMaxLength {self.stream_max}",
            "MaxFileSize 64M",
            "MaxScanSize 256M",
            "",
        ]))
        return path

    def start(self, timeout: float = 60) -> "Scanner":
        os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
        if os.path.exists(self.socket_path):  # a stale socket of a scanner that died
            os.unlink(self.socket_path)
        log = open(os.path.join(self.dir, "clamd.log"), "wb")
        self.process = subprocess.Popen([clamd_binary(), "-c", self._config()], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"clamd exited ({self.process.returncode}): {self.log()}")
            try:
                if ClamdUnixSocket(self.socket_path, timeout=2).ping() == "PONG":
                    return self
            except ClamdError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"clamd did not answer within {timeout} s: {self.log()}")

    def log(self) -> str:
        return Path(self.dir, "clamd.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Scanner":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="ClamAV's clamd on a local socket, with the test signatures")
    parser.add_argument("--socket", required=True)
    args = parser.parse_args()
    scanner = Scanner(os.path.abspath(args.socket)).start()

    def stop(*_):
        scanner.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"clamd scanning on {scanner.socket_path}", flush=True)
    # Polled, not Popen.wait(): a wait() interrupted by the signal whose handler waits for the
    # same child again deadlocks on Popen's wait lock (seen: `make demo` never stopping).
    while scanner.process is not None and scanner.process.poll() is None:
        time.sleep(0.5)


if __name__ == "__main__":
    main()
