# Lumo assistant: `make run` and `make test` are all an operator needs (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
PY310 = $(shell scripts/find-python310)
INSTALLED := $(VENV)/.installed
MODEL := models/lumo.tar.gz
CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx
VOIKKO_FI := /usr/lib/voikko/5/mor-standard/mor.vfst
WIDGET := liveagent/static/dist/widget.js
NODE_TOOLS := node_modules/.installed
WIDGET_SOURCES := $(shell find liveagent/static/widget liveagent/static/lib -name '*.js' 2>/dev/null) liveagent/static/copy/widget.fi.json
TRAINING_INPUTS := config.yml domain.yml $(shell find data components -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
# Rasa would otherwise send usage telemetry and crash reports (Segment, Sentry) to the internet.
export RASA_TELEMETRY_ENABLED := false

.PHONY: run run-prod test train validate publish install widget bench bench-nlu bench-load bench-insights bench-privacy bench-language lint clean token

run: $(INSTALLED) .env $(MODEL) $(WIDGET) ## install what is missing, train if needed, start everything
	$(PY) scripts/run_stack.py

run-prod: $(INSTALLED) .env $(MODEL) $(NGINX) $(WIDGET) ## production rehearsal: PostgreSQL, Redis, 2 Rasa + 2 service replicas, nginx on :8000
	$(PY) scripts/prod_stack.py

test: $(INSTALLED) $(MODEL) $(CHROMIUM) $(NGINX) $(VOIKKO_FI) $(WIDGET) ## install what is missing and run the whole suite (groups side by side)
	$(PY) scripts/run_tests.py $(PYTEST_ARGS)

install: $(INSTALLED) $(CHROMIUM) $(NGINX) $(VOIKKO_FI) $(NODE_TOOLS)

# The widget ships as one classic script for other sites: esbuild (pinned in package.json and
# package-lock.json) bundles liveagent/static/widget/ with the shared lib/ modules and its copy file.
widget: $(WIDGET) ## build liveagent/static/dist/widget.js

$(WIDGET): $(NODE_TOOLS) $(WIDGET_SOURCES)
	npm run --silent build

$(NODE_TOOLS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Install node (v20) and npm: they build the widget"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# apt-get waits for another apt or dpkg run (an unattended upgrade, a second make) instead of failing.
APT_GET = apt-get -o DPkg::Lock::Timeout=600

# Browser tests drive Debian's chromium through Playwright (Playwright's own browser download
# does not work offline).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Install Debian's chromium package for the browser tests"; exit 1; }
	$(APT_GET) update -qq
	DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium >/dev/null

# nginx fronts the service replicas in the production rehearsal and its tests, always as a foreground
# subprocess; RUNLEVEL=1 keeps the package from starting a system nginx on :80.
$(NGINX):
	@command -v apt-get >/dev/null || { echo "Install nginx for the production rehearsal and its tests"; exit 1; }
	$(APT_GET) update -qq
	DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $(APT_GET) install -y -qq --no-install-recommends nginx >/dev/null

# spaCy's Finnish pipeline (spacy-fi-experimental-web-md) lemmatises with Voikko: the `voikko` wheel is only
# a ctypes binding to Debian's libvoikko1, which needs the Finnish dictionary from voikko-fi.
$(VOIKKO_FI):
	@command -v apt-get >/dev/null || { echo "Install libvoikko1 and voikko-fi (Voikko) for spaCy's Finnish pipeline"; exit 1; }
	$(APT_GET) update -qq
	DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq --no-install-recommends libvoikko1 voikko-fi >/dev/null

# uv installs the pinned set (requirements.txt) into the venv: the same packages as pip, in about 15 s instead of
# about 80 (measured on a fresh venv; the registry's answers are not cached by pip here, uv keeps the wheels). The
# modules are compiled once here: the processes run with PYTHONDONTWRITEBYTECODE.
UV_VERSION := 0.13.8
$(INSTALLED): requirements.txt
	@test -x $(PY) || $(PY310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==24.0 uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode -r requirements.txt
	@touch $@

.env: .env.example scripts/ensure_env.py
	$(PY) scripts/ensure_env.py

train: $(MODEL) ## train only when data, domain, config or components changed

# rasa_runtime.train: `rasa train` without TensorFlow (our graph has no neural model); the tokenizer
# analyses words with Voikko's C library (libvoikko1 + voikko-fi).
$(MODEL): $(INSTALLED) $(TRAINING_INPUTS) | $(VOIKKO_FI)
	$(PY) -m rasa_runtime.train --config config.yml --domain domain.yml --data data --out models --fixed-model-name lumo
	@touch $@

validate: $(INSTALLED) ## rasa data validate + editors' content checks (Finnish report)
	$(PY) scripts/validate.py

publish: $(INSTALLED) .env ## validate, train, test, then load into the running bot (ROLLBACK=1: previous model)
	$(PY) scripts/publish.py $(if $(ROLLBACK),--rollback)

bench: bench-nlu bench-load ## every benchmark, side by side with plain Rasa -> bench/REPORT.md + charts

bench-nlu: $(INSTALLED) ## NLU comparison against Rasa's default pipeline
	$(PY) bench/nlu.py

bench-load: $(INSTALLED) $(MODEL) ## full stack over Socket.IO against plain `rasa run` (default config)
	$(PY) bench/load.py

bench-insights: $(INSTALLED) ## supervisors' insights, 30 days of 100,000 conversations (PostgreSQL on 127.0.0.1:5432)
	$(PY) bench/insights.py

# The other candidate libraries are not project dependencies: install them into a scratch directory on
# PYTHONPATH to compare them too (docs/nlu.md, "Other languages"); rows of missing ones are left out.
bench-language: $(INSTALLED) $(MODEL) ## language identification on short chat messages: libraries, settings, the bot -> bench/REPORT.md
	$(PY) bench/language_id.py --model $(MODEL)

bench-privacy: $(INSTALLED) $(VOIKKO_FI) ## spaCy's Finnish NER as a name/address masker: accuracy and cost (prints)
	$(PY) bench/privacy_ner.py

token: $(INSTALLED) .env ## print an identity token for a demo customer: make token CUSTOMER=LUMO-1001
	@$(PY) scripts/demo_token.py $(or $(CUSTOMER),LUMO-1001)

clean:
	rm -rf models var results .pytest_cache

lint: $(INSTALLED) ## ruff over the project's Python
	$(VENV)/bin/ruff check actions bench components content liveagent lumo_shared rasa_runtime scripts stack tests

lock: ## re-resolve requirements.txt from requirements.in
	$(PY) -m pip install --quiet -r requirements.in
	(echo "# Full pinned set, resolved from requirements.in (regenerate: make lock)."; $(PY) -m pip freeze) > requirements.txt
