# Two commands on a fresh machine: `make run` and `make test`.
# Everything (virtualenv, Python packages, and as root the Debian packages the tests
# need) is installed by the scripts these targets call.

SHELL := /bin/bash
SIZE ?= full

.PHONY: run test lint bench backup install system-packages clean

install:
	@scripts/bootstrap.sh

run: install
	@scripts/run.sh

test: install
	@scripts/test.sh

lint: install
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && CLINIC_TESTING=1 .venv/bin/mypy

# One backup now (database + stored files) into BACKUP_DIR, keeping BACKUP_KEEP.
backup: install
	@scripts/backup.sh

bench: install
	@scripts/bench.sh $(SIZE)

system-packages:
	@scripts/system_packages.sh

clean:
	rm -rf .venv var
