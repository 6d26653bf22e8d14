# Two commands on a fresh machine: `make run` and `make test`.
# Everything (virtualenv, Python packages, and as root the Debian packages the tests
# need) is installed by the scripts these targets call.

SHELL := /bin/bash
SIZE ?= full

.PHONY: run test lint bench install system-packages clean

install:
	@scripts/bootstrap.sh

run: install
	@scripts/run.sh

test: install
	@scripts/test.sh

lint: install
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench: install
	@scripts/bench.sh $(SIZE)

system-packages:
	@scripts/system_packages.sh

clean:
	rm -rf .venv var
