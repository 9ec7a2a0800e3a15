"""`make demo`'s bank: a real OpenID provider on 127.0.0.1 (node-oidc-provider, the one the
tests use: tests/idp, tests/support/idp.py) where the demo customers sign in, so the demo
takes the same sign-in path as a bank's deployment. Runs until stopped (SIGTERM / Ctrl-C),
then stops the provider it started.

    python scripts/demo_idp.py --port 9400 --redirect-uri http://127.0.0.1:8000/sso/callback
"""
import argparse
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchline.settings.demo")

import django  # noqa: E402

django.setup()

from tests.support.idp import IdentityProvider  # noqa: E402

from branchline.web.demo_data import DEMO_BANK_CLIENT, DEMO_PASSWORD, demo_bank_accounts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9400)
    parser.add_argument("--redirect-uri", required=True)
    args = parser.parse_args()
    accounts = demo_bank_accounts()
    client_id, client_secret = DEMO_BANK_CLIENT
    provider = IdentityProvider(
        clients=[{"client_id": client_id, "client_secret": client_secret, "redirect_uris": [args.redirect_uri]}],
        accounts=accounts, port=args.port)
    provider.start()

    def stop(*_):
        provider.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"  demo bank sign-in: {provider.issuer}  ({', '.join(accounts)}; password {DEMO_PASSWORD})", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
