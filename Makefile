# The two commands a newcomer runs: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: run demo test fuzz soak bench bench-pi bench-peers bench-tor screenshots clean venv install uninstall

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

## make test: the whole suite (unit, property, integration), on every core (pytest-xdist; tests/conftest.py
## says what must share a worker). TEST_WORKERS=0 runs it in one process, as a plain `pytest` does.
TEST_WORKERS ?= auto
test: $(TSTAMP)
	@sh tests/system-deps.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

## make install: meshcare as a systemd service that starts at boot (docs/raspberry-pi.md). Run it as root:
## `sudo make install` installs the node of whoever ran sudo; INSTALL_ARGS="--system" a relay with its own
## user, "--user NAME" someone else's, "--dry-run" shows what it would do. It runs from this checkout with
## Debian's python3 (apt install python3-nacl python3-msgpack python3-cffi python3-venv first), makes the
## venv /opt/meshcare/venv with --system-site-packages and installs this checkout into it (again: updates).
## `sudo make uninstall` removes it all but the node's data (same INSTALL_ARGS).
SYSTEM_PYTHON ?= /usr/bin/python3
INSTALL_ARGS ?=
# (no .pyc files: as root they would be root's, in your checkout)
install:
	PYTHONDONTWRITEBYTECODE=1 $(SYSTEM_PYTHON) -m meshcare service install --source "$(CURDIR)" --python $(SYSTEM_PYTHON) $(INSTALL_ARGS)

uninstall:
	PYTHONDONTWRITEBYTECODE=1 $(SYSTEM_PYTHON) -m meshcare service uninstall $(INSTALL_ARGS)

## make screenshots: draw the user guide's pictures (docs/screenshots/*.svg) again from the terminal UI.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

## make fuzz: each fuzz target (tests/fuzz) for FUZZ_SECONDS (default 300); crashers go to tests/fuzz/crashers/.
FUZZ_SECONDS ?= 300
fuzz: $(TSTAMP)
	$(BIN)/python tests/fuzz/run.py --seconds $(FUZZ_SECONDS)

## make soak: a daemon under every kind of hostile link for SOAK_SECONDS (default 600) while an honest
## link delivers (make test runs the same test for 60 s); then the storage part: 20 kill -9s during the
## ingest of 10,000 envelopes and 5 simulated power cuts (benchmarks/bench_crash.py), and a full disk;
## then, as root, 20 namespaced daemons for SOAK_SECONDS under churn and 10 % loss, to full convergence (benchmarks/bench_soak.py).
SOAK_SECONDS ?= 600
soak: $(TSTAMP)
	MESHCARE_HOSTILE_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m pytest -s -p no:cacheprovider tests/test_hostile_soak.py
	$(BIN)/python benchmarks/bench_crash.py --kills 20 --envelopes 10000 --power-cuts 5
	MESHCARE_DISKFULL_ENVELOPES=10000 $(BIN)/python -m pytest -s -p no:cacheprovider tests/test_disk_full.py
	@if [ "$$(id -u)" = 0 ]; then $(BIN)/python benchmarks/bench_soak.py --seconds $(SOAK_SECONDS); \
	 else echo "bench_soak.py (20 namespaced nodes, churn, loss) skipped: network namespaces need root"; fi

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
	@if [ "$$(id -u)" = 0 ]; then $(BIN)/python benchmarks/bench_flood.py; \
	 else echo "bench_flood.py skipped: network namespaces need root"; fi
	@if command -v tmux >/dev/null 2>&1; then $(BIN)/python benchmarks/bench_tui.py; \
	 else echo "bench_tui.py skipped: tmux is not installed (sh tests/system-deps.sh installs it as root)"; fi

## make bench-pi: memory with 100,000 envelopes and bytes written per hour idle, small and standard profiles
## (docs/benchmarks.md section 14; about 20 minutes, most of it the measured 10-minute idle window).
bench-pi: $(TSTAMP)
	$(BIN)/python benchmarks/bench_pi.py

## make bench-tor: meshcare across onion services on a private, offline Tor network in network namespaces
## (docs/benchmarks.md): bring-up, onion link set-up, call latency onion vs direct, idle CPU/RSS of tor +
## meshcare (about 2.5 minutes; root, and tor from tests/system-deps.sh).
bench-tor: $(TSTAMP)
	@sh tests/system-deps.sh
	@if [ "$$(id -u)" = 0 ]; then $(BIN)/python benchmarks/bench_tor.py --table; \
	 else echo "bench_tor.py skipped: network namespaces need root"; fi

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
