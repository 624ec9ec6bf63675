# edge-agent: `make run` starts the agent on the simulated site, `make test` runs every test.
# Both bootstrap a virtual environment in .venv from nothing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
YANG := $(wildcard yang/*.yang)
PROTO_SRC := $(wildcard agent/gnmi/proto/*.proto)
PROTO_STAMP := agent/gnmi/generated/.stamp
PYTEST_ARGS ?=

.PHONY: all bootstrap venv system-deps proto bindings test lint run lab bench clean

all: bootstrap

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "edge-agent needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

system-deps:
	@tools/system-deps.sh

# gNMI stubs are generated from our own .proto files and never committed.
$(PROTO_STAMP): $(PROTO_SRC) $(STAMP) tools/gen-proto.sh
	@tools/gen-proto.sh $(PY)
	@touch $(PROTO_STAMP)

proto: $(PROTO_STAMP)

bootstrap: $(STAMP) $(PROTO_STAMP)

# bindings/ is generated from yang/ and committed; tests fail when it is stale.
bindings: $(STAMP)
	@$(PY) -m tools.gen_bindings

test: bootstrap system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check agent tests bench tools
	$(VENV)/bin/ruff format --check agent tests bench tools
	$(VENV)/bin/mypy agent tools

# The agent on the simulated site: gNMI with TLS on 127.0.0.1:9339, NETCONF over SSH on
# 127.0.0.1:8830 (an unprivileged port instead of 830, so no root is needed), state in
# ./state, and an admin called "admin" and a tenant user "tenant-a" (tenant operator-a) on
# first start (passwords generated into state/bootstrap-admin.password and
# state/bootstrap-tenant-a.password).
NETCONF_LISTEN ?= 127.0.0.1:8830
run: bootstrap
	$(VENV)/bin/edge-agent serve --state-dir state --bootstrap-admin admin --bootstrap-tenant tenant-a:operator-a --netconf-listen $(NETCONF_LISTEN) --simulate-traffic $(RUN_ARGS)

# The linux backend on a lab (needs root): namespaces ea-lab-host (netdevs lab0..3) and
# ea-lab-peer (their peers), the agent managing lab0..3 through netlink on 127.0.0.1:9339
# (state in ./state-lab), pygnmi commands printed; Ctrl-C stops it and removes the lab.
lab: bootstrap
	$(PY) -m tools.linux_lab $(LAB_ARGS)

bench: bootstrap
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) agent/gnmi/generated .pytest_cache .mypy_cache .ruff_cache
