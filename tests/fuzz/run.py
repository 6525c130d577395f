"""Run the fuzz targets under atheris (libFuzzer), each in its own process, for a bounded time.

    python tests/fuzz/run.py [--seconds N] [--work DIR] [--crashers DIR] [TARGET ...]

Each target reads its seed corpus (tests/fuzz/corpus/<target>/) and the kept crashers
(tests/fuzz/crashers/<target>/), writes the inputs it finds interesting to ``--work``/<target>/ (not
committed) and a crashing input to ``--crashers``/<target>/ (by default the kept crashers, so
``make fuzz`` keeps every crasher as a regression test). libFuzzer stops a target at its first crash.
Exit status 1 if any target crashed or could not run. Nothing here touches the network.

A crash is any exception other than RemoteProtocolError, an input that runs longer than ``--timeout``
seconds, or a process over 2 GiB RSS. Crashes listed in known.py (fixed on another branch) are not
counted, so the fuzzer keeps looking past them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "fuzz"
TARGET_NAMES = ("handshake", "frames", "session", "envelope")
MSGPACK_TARGETS = ("frames", "session", "envelope")  # these get msgpack.dict


@dataclass(frozen=True, slots=True)
class Result:
    """How one target's run ended. ``status``: "ok", "crash" (``artifact`` names the input) or "error"."""

    target: str
    status: str
    artifact: Path | None
    executions: int | None
    output: str

    def traceback(self) -> str:
        """The part of libFuzzer's output that explains the crash (the Python traceback), or its tail."""
        lines = self.output.splitlines()
        start = next((i for i, line in enumerate(lines) if "Uncaught Python exception" in line), None)
        if start is None:
            return "\n".join(lines[-40:])
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith(("INFO:", "WARNING:", "#", "==", "MS:"))), len(lines))
        return "\n".join(lines[start:end]).rstrip()


def fuzz(target: str, seconds: int, work: Path, crashers: Path, timeout: int = 25,
         known: bool = False) -> Result:
    """Fuzz ``target`` for ``seconds`` in a child process; never raises for a crash, reports it.

    ``known``: count the crashes listed in known.py too (to check that a fix has landed).
    """
    new_units = work / target
    new_units.mkdir(parents=True, exist_ok=True)
    artifacts = crashers / target
    artifacts.mkdir(parents=True, exist_ok=True)
    corpora = [new_units, HERE / "corpus" / target, HERE / "crashers" / target]
    cmd = [sys.executable, str(Path(__file__)), "--child-known" if known else "--child", target,
           *[str(c) for c in corpora if c.is_dir()],
           f"-max_total_time={seconds}", f"-artifact_prefix={artifacts}/", f"-timeout={timeout}",
           "-rss_limit_mb=2048", "-max_len=16384", "-print_final_stats=1"]
    if target in MSGPACK_TARGETS:
        cmd.append(f"-dict={HERE / 'msgpack.dict'}")
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 180,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return Result(target, "error", None, None, f"the fuzzer did not stop in time: {exc}")
    output = proc.stdout + proc.stderr
    written = re.findall(r"Test unit written to (\S+)", output)
    executed = re.findall(r"stat::number_of_executed_units:\s*(\d+)", output)
    executions = int(executed[-1]) if executed else None
    if written:
        return Result(target, "crash", Path(written[-1]), executions, output)
    return Result(target, "ok" if proc.returncode == 0 else "error", None, executions, output)


def _child(target: str, libfuzzer_args: list[str], count_known: bool) -> None:
    """The fuzzing process: instrument meshcare, then hand the target to libFuzzer (never returns)."""
    sys.path.insert(0, str(ROOT))
    import atheris

    with atheris.instrument_imports(include=["meshcare", "tests.fuzz.targets"]):
        from tests.fuzz import targets
    from tests.fuzz import known

    function = targets.TARGETS[target]

    def one_input(data: bytes) -> None:
        try:
            function(data)
        except Exception as exc:
            if count_known or known.match(target, exc) is None:
                raise

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def main(argv: list[str]) -> int:
    if argv[:1] in (["--child"], ["--child-known"]):
        _child(argv[1], argv[2:], argv[0] == "--child-known")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", choices=[[], *TARGET_NAMES], default=[])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "300")))
    parser.add_argument("--work", type=Path, default=ROOT / ".fuzz")
    parser.add_argument("--crashers", type=Path, default=HERE / "crashers")
    parser.add_argument("--known", action="store_true", help="count the crashes listed in known.py too")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("atheris") is None:
        print(f"fuzz: atheris is not installed (its wheels are for x86_64; this is {platform.machine()})")
        return 1
    failed = False
    for target in args.targets or TARGET_NAMES:
        print(f"fuzzing {target} for {args.seconds} s ...", flush=True)
        result = fuzz(target, args.seconds, args.work, args.crashers, known=args.known)
        runs = f"{result.executions:,} inputs" if result.executions is not None else "? inputs"
        print(f"  {target}: {result.status} after {runs}"
              + (f"; crasher kept in {result.artifact}" if result.artifact else ""), flush=True)
        if result.status != "ok":
            failed = True
            print(result.traceback(), flush=True)
    print("fuzz: " + ("crashes found (see above)" if failed else "no crash found"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
