# The two commands a newcomer needs: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= debug
BIN_DIR := $(CURDIR)/.build/$(CONFIG)

.PHONY: run stop status deps venv build test bench clean-state

## make run: install what is missing, build, start Redis, PostgreSQL, the simulator and both services.
run: deps build
	BIN_DIR=$(BIN_DIR) scripts/stack.sh start

## make stop: stop everything `make run` started.
stop:
	scripts/stack.sh stop

status:
	scripts/stack.sh status

deps:
	scripts/install-deps.sh

venv: deps
	scripts/venv.sh

build:
	$(SWIFT) build -c $(CONFIG)

## make test: every test, against real redis-server and PostgreSQL started by the test harness.
## Tests run one at a time: many of them start real processes (simulator, services, servers), and on a
## 2-core machine running them together turns their bounded waits into timeouts.
test: deps venv
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) scripts/run-tests.sh

## make bench: release-build benchmarks that print their figures.
bench: deps venv
	$(SWIFT) build -c release
	.build/release/Benchmarks all

## Remove the local stack's data (.run/). Stops it first.
clean-state: stop
	rm -rf .run
