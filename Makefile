# The two commands a newcomer runs: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: run demo test fuzz soak bench bench-peers screenshots clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

venv: $(STAMP)

## make run: set up on first run, start this household's node in the background, open the terminal UI.
## make run ARGS="--no-discovery --peer 192.0.2.10:7447" passes the daemon's flags (`meshcare start ARGS`).
ARGS ?=
run: $(STAMP)
	$(BIN)/meshcare start $(ARGS)

## make demo: a support circle with two scripted neighbours on this computer (nothing on the network).
demo: $(STAMP)
	$(BIN)/meshcare demo

## make test: the whole suite (unit, property, integration).
test: $(TSTAMP)
	@sh tests/system-deps.sh
	$(BIN)/python -m pytest

## make screenshots: draw the user guide's pictures (docs/screenshots/*.svg) again from the terminal UI.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

## make fuzz: each fuzz target (tests/fuzz) for FUZZ_SECONDS (default 300); crashers go to tests/fuzz/crashers/.
FUZZ_SECONDS ?= 300
fuzz: $(TSTAMP)
	$(BIN)/python tests/fuzz/run.py --seconds $(FUZZ_SECONDS)

## make soak: a daemon under every kind of hostile link for SOAK_SECONDS (default 600) while an honest
## link delivers (make test runs the same test for 60 s); then social recovery with real processes (~80 s).
SOAK_SECONDS ?= 600
soak: $(TSTAMP)
	MESHCARE_HOSTILE_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m pytest -s -p no:cacheprovider tests/test_hostile_soak.py
	MESHCARE_RECOVERY_PROCESSES=1 $(BIN)/python -m pytest -p no:cacheprovider tests/test_recovery_cli.py

## make bench: every benchmark (a few minutes); figures go to docs/benchmarks.md.
bench: $(TSTAMP)
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_reconcile.py
	$(BIN)/python benchmarks/bench_sim.py
	$(BIN)/python benchmarks/bench_circles.py
	$(BIN)/python benchmarks/bench_own_post.py
	$(BIN)/python benchmarks/bench_daemon.py
	$(BIN)/python benchmarks/bench_oneshot.py --messages 50 --warmup 10
	@if [ "$$(id -u)" = 0 ]; then $(BIN)/python benchmarks/bench_netns.py; \
	 else echo "bench_netns.py skipped: network namespaces need root"; fi
	@if command -v tmux >/dev/null 2>&1; then $(BIN)/python benchmarks/bench_tui.py; \
	 else echo "bench_tui.py skipped: tmux is not installed (sh tests/system-deps.sh installs it as root)"; fi

## make bench-peers: the one-message-at-a-time benchmark against Reticulum/LXMF, interleaved (docs/peers.md).
## Reticulum and LXMF go into their own venv, benchmarks/peers/.venv, pinned by
## benchmarks/peers/requirements.txt: never into .venv, never a meshcare dependency (their licence is not
## OSI-approved; nothing of them is committed or shipped). The venv is rebuilt when requirements.txt changes.
PEERS_VENV  := benchmarks/peers/.venv
PEERS_STAMP := $(PEERS_VENV)/.installed

$(PEERS_STAMP): benchmarks/peers/requirements.txt
	$(PYTHON) -m venv --clear $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet -r benchmarks/peers/requirements.txt
	touch $@

bench-peers: $(STAMP) $(PEERS_STAMP)
	$(BIN)/python benchmarks/bench_oneshot.py --systems meshcare,lxmf --lxmf-python benchmarks/peers/.venv/bin/python --rounds 3

clean:
	rm -rf $(VENV) $(PEERS_VENV) .pytest_cache .hypothesis build *.egg-info .fuzz
