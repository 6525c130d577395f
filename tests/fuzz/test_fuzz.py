"""The fuzz targets in ``make test``: a short atheris run of each, and every kept input replayed.

``test_fuzz_target`` runs each target under atheris in a subprocess for FUZZ_TEST_SECONDS (12 s by
default, ~1 minute for the four) and fails with the crashing input's path and traceback. Without atheris
it skips, except on CI on x86_64 (where the test extra installs it), so CI never silently skips.
The replay tests need no atheris: every seed and every kept crasher goes through its target in-process.
"""

from __future__ import annotations

import importlib.util
import os
import platform
from pathlib import Path

import pytest

from . import known, make_corpus, targets
from .run import TARGET_NAMES, fuzz

HERE = Path(__file__).resolve().parent
SECONDS = int(os.environ.get("FUZZ_TEST_SECONDS", "12"))


def _kept(kind: str, target: str) -> list[Path]:
    folder = HERE / kind / target
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def _all_crashers() -> list[Path]:
    return [p for target in TARGET_NAMES for p in _kept("crashers", target)]


def _require_atheris() -> None:
    if importlib.util.find_spec("atheris") is not None:
        return
    if os.environ.get("CI") == "true" and platform.machine() == "x86_64":
        pytest.fail("atheris is missing on CI (x86_64): `pip install -e '.[test]'` should have installed it")
    pytest.skip(f"atheris is not installed (the test extra installs it on x86_64; this is {platform.machine()})")


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_fuzz_target(target: str, tmp_path: Path) -> None:
    _require_atheris()
    result = fuzz(target, SECONDS, tmp_path / "work", tmp_path / "crashers")
    if result.status == "crash":
        pytest.fail(f"fuzzing {target} for {SECONDS} s found a crash: {result.artifact}\n"
                    f"(copy it to tests/fuzz/crashers/{target}/ to keep it as a regression test)\n"
                    f"{result.traceback()}", pytrace=False)
    assert result.status == "ok", f"the {target} fuzzer did not run:\n{result.traceback()}"
    assert result.executions, f"the {target} fuzzer ran no input"


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_seed_corpus_passes(target: str) -> None:
    seeds = _kept("corpus", target)
    assert seeds, f"tests/fuzz/corpus/{target}/ is empty: run tests/fuzz/make_corpus.py"
    for path in seeds:
        targets.TARGETS[target](path.read_bytes())


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_seed_corpus_is_current(target: str) -> None:
    """The committed seeds are what make_corpus.py writes today (so they speak the current protocol)."""
    expected = make_corpus.SEEDS[target]()
    kept = {p.name: p.read_bytes() for p in _kept("corpus", target)}
    assert kept == expected, "the wire format changed: run tests/fuzz/make_corpus.py and commit the corpus"


@pytest.mark.parametrize("path", _all_crashers(), ids=lambda p: f"{p.parent.name}/{p.name[:16]}")
def test_crasher_no_longer_crashes(path: Path) -> None:
    target = path.parent.name
    try:
        targets.TARGETS[target](path.read_bytes())
    except Exception as exc:
        entry = known.match(target, exc)
        if entry is not None:
            pytest.xfail(f"known, fixed on another branch: {entry.reason}")
        raise


def test_known_crashes_are_still_open() -> None:
    """Fails once the fix of a known crash is merged, so its entry (and the fuzzers' blind spot) goes.
    (No entries today: both crashes found while issue 9 was built are fixed.)"""
    for entry in known.KNOWN:
        if not any(_reproduces(entry, path) for path in _kept("crashers", entry.target)):
            pytest.fail(f"no kept {entry.target} crasher raises {entry.exception} in {entry.path} "
                        f"{entry.function}() any more: the fix has landed. Delete this entry from "
                        "tests/fuzz/known.py; keep the crasher files (they are the regression tests).")


def _reproduces(entry: known.Known, path: Path) -> bool:
    try:
        targets.TARGETS[entry.target](path.read_bytes())
    except Exception as exc:
        return known.match(entry.target, exc) == entry
    return False
