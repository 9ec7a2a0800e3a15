# Branchline. `make demo` runs it; `make test` runs the whole suite. See README.md.
VENV      := .venv
PY        := $(VENV)/bin/python
HOST      ?= 127.0.0.1
PORT      ?= 8000
UVICORN   := $(PY) -m uvicorn branchline.asgi:application --app-dir src --lifespan on --ws-max-size 1048576

.PHONY: demo test venv browser migrate serve clean bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || "$$(./scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=branchline.settings.demo $(PY) manage.py migrate --noinput -v 0
	DJANGO_SETTINGS_MODULE=branchline.settings.demo $(PY) manage.py collectstatic --noinput -v 0
	DJANGO_SETTINGS_MODULE=branchline.settings.demo $(PY) manage.py seed_demo

demo: migrate
	@echo ""
	@echo "  Branchline demo on http://$(HOST):$(PORT)/"
	@echo "    customer chat:  http://$(HOST):$(PORT)/chat/   (guest, or 'Sign in with bank' -> demo customers jan.kowalski / maria.silva)"
	@echo "    agent console:  http://$(HOST):$(PORT)/console/   (anna / ben / olga, password branchline-demo)"
	@echo "    API + OpenAPI:  http://$(HOST):$(PORT)/api/docs   http://$(HOST):$(PORT)/api/openapi.json"
	@echo ""
	DJANGO_SETTINGS_MODULE=branchline.settings.demo $(UVICORN) --host $(HOST) --port $(PORT)

# Debian's chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium'"; fi; }

# The suite picks its own settings (pyproject.toml): never inherit the caller's.
test: venv browser
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=branchline.settings.test $(PY) manage.py makemigrations --check --dry-run -v 0 \
	  || { echo "models changed without a migration: run makemigrations"; exit 1; }
	PYTHONPATH=src $(VENV)/bin/lint-imports --no-cache
	env -u DJANGO_SETTINGS_MODULE $(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf var $(VENV)
