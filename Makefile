# Branchline. `make demo` runs it; `make test` runs the whole suite. See README.md.
VENV      := .venv
PY        := $(VENV)/bin/python
HOST      ?= 127.0.0.1
PORT      ?= 8000
# No permessage-deflate: it costs ~37 KiB per browser socket (bench/README.md), and compressing
# secrets beside attacker-influenced text is what CRIME/BREACH-style attacks need.
# No proxy headers: uvicorn would believe X-Forwarded-For from any local peer; Branchline
# believes it from BRANCHLINE_TRUSTED_PROXIES only (src/branchline/core/http.py).
UVICORN   := $(PY) -m uvicorn branchline.asgi:application --app-dir src --lifespan on --ws-max-size 1048576 \
             --ws-per-message-deflate false --no-proxy-headers

.PHONY: demo test venv browser scanner migrate serve clean bench assets widget-size messages

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || "$$(./scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@# src/ on the venv's path, so that tools run plainly (lint-imports, python -c "import branchline") find it.
	$(PY) -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'branchline-src.pth').write_text(str(pathlib.Path('src').resolve()) + '\n')"
	@touch $@

venv: $(VENV)/.installed

# The staff console's bundle (frontend/, Preact + Vite; docs/adr/0007-console-components.md):
# npm ci from the committed lock file, then a type check and vite build into frontend/dist/
# (git-ignored, a STATICFILES_DIRS entry). Each step is skipped while its inputs are unchanged.
NPM            := npm --prefix frontend --no-audit --no-fund
NODE_MODULES   := frontend/node_modules/.installed
CONSOLE_BUNDLE := frontend/dist/console/console.js
FRONTEND_SRC   := $(shell find frontend/src -type f 2>/dev/null) frontend/vite.config.ts frontend/tsconfig.json \
                  src/branchline/web/static/branchline/text.js src/branchline/web/static/branchline/connection.js \
                  src/branchline/web/static/branchline/files.js src/branchline/web/static/branchline/lines.js \
                  src/branchline/web/static/branchline/language.js

$(NODE_MODULES): frontend/package.json frontend/package-lock.json
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' 2>/dev/null \
	  || { echo "Node.js >= 20.19 is needed to build the console (found: $$(node --version 2>/dev/null || echo none))"; exit 1; }
	$(NPM) ci --loglevel=error
	@touch $@

$(CONSOLE_BUNDLE): $(NODE_MODULES) $(FRONTEND_SRC)
	$(NPM) run --silent build
	@touch $@

assets: $(CONSOLE_BUNDLE)

# The customer widget's script weight, gzipped (it stays small plain JS: no framework).
widget-size:
	@node frontend/scripts/widget-size.mjs

# The OpenID provider of the tests and the demo (tests/idp/: node-oidc-provider, run by
# tests/support/idp.py):
# npm ci from its committed lock file, skipped while package.json and the lock are unchanged.
NPM_IDP     := npm --prefix tests/idp --no-audit --no-fund
IDP_MODULES := tests/idp/node_modules/.installed

$(IDP_MODULES): tests/idp/package.json tests/idp/package-lock.json
	$(NPM_IDP) ci --loglevel=error
	@touch $@

# The demo's bank (scripts/demo_idp.py): a real OpenID provider on IDP_PORT, where the demo
# customers sign in; the demo server is its client.
IDP_PORT  ?= 9400
DEMO_ENV  := DJANGO_SETTINGS_MODULE=branchline.settings.demo \
             BRANCHLINE_CUSTOMER_OIDC_ISSUER=http://127.0.0.1:$(IDP_PORT) \
             BRANCHLINE_CUSTOMER_OIDC_CLIENT_ID=branchline-demo BRANCHLINE_CUSTOMER_OIDC_CLIENT_SECRET=branchline-demo-secret \
             BRANCHLINE_CUSTOMER_OIDC_REDIRECT_URI=http://$(HOST):$(PORT)/sso/callback \
             BRANCHLINE_CUSTOMER_OIDC_SCOPES="openid profile bank" \
             BRANCHLINE_CLAMD=$(CURDIR)/var/clamd/clamd.sock

migrate: venv assets
	@mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput -v 0
	$(DEMO_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(DEMO_ENV) $(PY) manage.py seed_demo

demo: migrate scanner $(IDP_MODULES)
	@echo ""
	@echo "  Branchline demo on http://$(HOST):$(PORT)/"
	@echo "    customer chat:  http://$(HOST):$(PORT)/chat/   (guest, or 'Sign in with your bank' -> jan.kowalski / maria.silva, password branchline-demo)"
	@echo "    agent console:  http://$(HOST):$(PORT)/console/   (anna / ben / olga, password branchline-demo)"
	@echo "    API + OpenAPI:  http://$(HOST):$(PORT)/api/docs   http://$(HOST):$(PORT)/api/openapi.json"
	@echo ""
	@$(DEMO_ENV) $(PY) scripts/demo_idp.py --port $(IDP_PORT) --redirect-uri http://$(HOST):$(PORT)/sso/callback & idp=$$!; \
	  $(PY) tests/support/clamd.py --socket var/clamd/clamd.sock & clamd=$$!; \
	  trap 'kill $$idp $$clamd 2>/dev/null; wait $$idp $$clamd 2>/dev/null' EXIT INT TERM; \
	  $(DEMO_ENV) $(UVICORN) --host $(HOST) --port $(PORT)

# The translation catalogs (src/branchline/locale/, docs/protocol.md §18): gather every text of
# the server, the widget and the console into the .po files, then compile the .mo files the
# server reads (both committed). tests/test_translations.py fails while a text is untranslated.
messages: venv
	$(PY) scripts/messages.py

# Debian's chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium'"; fi; }

# Debian's ClamAV daemon, which scans every file (docs/adr/0021); the tests and the demo start
# their own clamd with the test signatures (tests/support/clamd.py), never the system's service.
scanner:
	@command -v clamd >/dev/null 2>&1 || test -x /usr/sbin/clamd || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clamav-daemon >/dev/null; \
	  else echo "clamd is missing: run 'sudo apt-get install clamav-daemon'"; fi; }

# The suite picks its own settings (pyproject.toml): never inherit the caller's.
test: venv browser scanner assets $(IDP_MODULES)
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=branchline.settings.test $(PY) manage.py makemigrations --check --dry-run -v 0 \
	  || { echo "models changed without a migration: run makemigrations"; exit 1; }
	env -u DJANGO_SETTINGS_MODULE $(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf var $(VENV) frontend/node_modules frontend/dist tests/idp/node_modules
