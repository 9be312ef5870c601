"""Run every benchmark, show each verdict, and fail at the end if any target was missed.

`make bench` runs this. Each script in benchmarks/ prints one line per target it checks,
starting with ``PASS:`` or ``MISS:`` (``SKIP:`` when it cannot run here), and exits 1 on a
miss. A miss or a crash does not stop the run: every benchmark runs, so one slow number
never hides the others; the summary repeats every verdict line and the exit status is 1
if any benchmark missed a target or failed to finish.

Run: .venv/bin/python scripts/bench.py [NAME ...]   (names without .py, e.g. startup)
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
VERDICTS = ("PASS:", "MISS:", "SKIP:")


@dataclass
class Outcome:
    name: str
    returncode: int
    seconds: float
    verdicts: list[str] = field(default_factory=list)

    @property
    def missed(self) -> bool:
        # A non-zero exit without a MISS line is a crash: it counts as missed too.
        return self.returncode != 0 or any(line.startswith("MISS:") for line in self.verdicts)


def run(script: Path) -> Outcome:
    """Run one benchmark, echoing its output as it comes (they take a while)."""
    print(f"== {script.name}", flush=True)
    started = time.perf_counter()
    verdicts: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith(VERDICTS):
                verdicts.append(line.rstrip("\n"))
    return Outcome(script.stem, process.returncode, time.perf_counter() - started, verdicts)


def main(argv: list[str]) -> int:
    scripts = sorted(path for path in BENCHMARKS.glob("*.py") if not path.name.startswith("_"))
    if argv:
        wanted = set(argv)
        unknown = wanted - {path.stem for path in scripts}
        if unknown:
            print(f"no such benchmark: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        scripts = [path for path in scripts if path.stem in wanted]
    outcomes = [run(script) for script in scripts]
    print("\n== summary")
    for outcome in outcomes:
        state = "MISS" if outcome.missed else "PASS"
        print(f"{state}  {outcome.name} ({outcome.seconds:.0f} s, exit {outcome.returncode})")
        for line in outcome.verdicts:
            print(f"        {line}")
        if outcome.returncode != 0 and not outcome.verdicts:
            print("        (no verdict: the benchmark did not finish; see its output above)")
    missed = [outcome.name for outcome in outcomes if outcome.missed]
    if missed:
        print(f"{len(missed)} of {len(outcomes)} benchmarks missed a target: {', '.join(missed)}")
        return 1
    print(f"all {len(outcomes)} benchmarks met their targets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
