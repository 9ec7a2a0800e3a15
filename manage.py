#!/usr/bin/env python
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

if __name__ == "__main__":
    # Without explicit settings a server runs as production, which refuses to start without
    # a SECRET_KEY: the demo (DEBUG, demo sign-in, a known key) is only ever chosen by name.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchline.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
