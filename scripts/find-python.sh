#!/usr/bin/env sh
# Prints the path of a Python 3.13 interpreter: one on PATH, else pyenv's 3.13.x.
for candidate in python3.13 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/3.13.0/bin/python" \
                 "$HOME/.pyenv/versions/3.13.0/bin/python" "$HOME"/.pyenv/versions/3.13*/bin/python; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && \
     "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
    command -v "$candidate"; exit 0
  fi
done
echo "Python 3.13 not found: install it (e.g. 'pyenv install 3.13.0') and run make again." >&2
exit 1
