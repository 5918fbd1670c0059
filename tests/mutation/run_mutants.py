"""Run the mutation catalogue (``catalogue.py``): plant each mutant in a scratch copy of the repository, run the
tests that must catch it, and print the score and every survivor.

    python tests/mutation/run_mutants.py              # the whole catalogue (before a release; see docs/testing.md)
    python tests/mutation/run_mutants.py --fast       # the CI subset
    python tests/mutation/run_mutants.py adam-eps-inside-sqrt gradcheck-only-first-input

The copy holds the files git knows (tracked, and untracked but not ignored), so uncommitted work is included.
Its tests run with the copy first on PYTHONPATH, one pytest process per mutant (``-x -n 0``), ``--jobs`` at a
time. Before the mutants, the same tests run once on the unchanged copy: a failure there stops everything (a
mutant cannot be said to be caught by tests that fail anyway). A rule whose text is missing, or found more than
once, is STALE: an error, never skipped. Exit status 0 only if every mutant was killed and no rule is stale.
"""
import argparse
import concurrent.futures
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catalogue import MUTANTS

ROOT = Path(__file__).resolve().parents[2]
PYTEST = ["-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider"]


def problems(mutants, root=ROOT):
    """What is wrong with the rules themselves: STALE find texts, duplicate ids, tests that do not exist."""
    found = []
    ids = [mutant.id for mutant in mutants]
    found += [f"{name}: the id is used more than once" for name in sorted({i for i in ids if ids.count(i) > 1})]
    for mutant in mutants:
        source = root / mutant.file
        count = source.read_text().count(mutant.find) if source.is_file() else 0
        if count != 1:
            where = "is not there" if count == 0 else f"occurs {count} times"
            found.append(f"{mutant.id}: STALE: its text {where} in {mutant.file}: update the rule to the code")
        if mutant.find == mutant.replace:
            found.append(f"{mutant.id}: the replacement is the text itself")
        found += [f"{mutant.id}: no test file {target}" for target in mutant.tests
                  if not (root / target.split("::")[0]).is_file()]
    return found


def scratch_copy(destination, root=ROOT):
    """Copy the files git lists (tracked, and untracked but not ignored) from ``root`` into ``destination``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = root / name, Path(destination) / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def environment(copy):
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(copy), os.environ.get("PYTHONPATH", "")]))


def imports_its_own_tinygen(copy):
    """Whether Python run in ``copy`` imports the copy's tinygen (not an installed one, which no mutant changes)."""
    where = subprocess.run([sys.executable, "-c", "import tinygen; print(tinygen.__file__)"], cwd=copy,
                           env=environment(copy), capture_output=True, text=True).stdout.strip()
    return Path(where).resolve().is_relative_to(Path(copy).resolve())


def run_tests(copy, targets, timeout):
    """(pytest's exit status or "timeout", seconds, its output) for ``targets`` run in ``copy``."""
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, *PYTEST, *targets], cwd=copy, env=environment(copy), timeout=timeout,
                              capture_output=True, text=True)
        status, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        status, output = "timeout", ""
    shutil.rmtree(Path(copy) / ".hypothesis", ignore_errors=True)  # no example found under one mutant replays later
    return status, time.monotonic() - start, output


def first_failure(output):
    """The test that failed first ("tests/x.py::test_y"), from pytest's short summary; else pytest's last line."""
    lines = output.strip().splitlines()
    failed = [line.split(" - ")[0].split(" ", 1)[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return failed[0] if failed else (lines[-1] if lines else "")


def verdict(status):
    """pytest's exit status under a mutant: 1 (tests failed), 2 (interrupted: the mutant broke an import) or a
    timeout catch it; 0 means it survived; 5 (no tests ran) or 3, 4 (pytest itself failed) is an error."""
    return {0: "SURVIVED", 1: "killed", 2: "killed", "timeout": "killed (timeout)"}.get(status, f"ERROR ({status})")


def run_mutant(mutant, copy, timeout):
    source = Path(copy) / mutant.file
    original = source.read_text()
    source.write_text(original.replace(mutant.find, mutant.replace, 1))
    try:
        status, seconds, output = run_tests(copy, mutant.tests, timeout)
    finally:
        source.write_text(original)
    return mutant, verdict(status), seconds, first_failure(output)


def torch_installed():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="run only these mutants")
    parser.add_argument("--fast", action="store_true", help="only the mutants marked fast (the CI subset)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (one core each)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a mutant's tests may run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the tests without mutants")
    options = parser.parse_args(argv)

    broken = problems(MUTANTS)
    unknown = set(options.ids) - {mutant.id for mutant in MUTANTS}
    selected = [m for m in MUTANTS if (not options.ids or m.id in options.ids) and (m.fast or not options.fast)]
    for line in broken + [f"{name}: no such mutant" for name in sorted(unknown)]:
        print(f"error: {line}")
    if broken or unknown:
        return 2
    torch = torch_installed()
    print(f"{len(selected)} mutants, {options.jobs} at a time, PyTorch {'installed' if torch else 'NOT installed'}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tinygen-mutants-") as scratch:
        copies = queue.Queue()
        for job in range(options.jobs):
            scratch_copy(Path(scratch) / str(job))
            copies.put(Path(scratch) / str(job))
        if not imports_its_own_tinygen(Path(scratch) / "0"):
            print("error: Python in the scratch copy imports another tinygen; mutants would change nothing")
            return 2
        if not options.no_baseline:
            targets = sorted({target for mutant in selected for target in mutant.tests})
            status, seconds, output = run_tests(Path(scratch) / "0", targets, options.timeout * 2)
            if status != 0:
                print(f"error: the tests fail without any mutant (pytest status {status}): {first_failure(output)}")
                return 2
            print(f"baseline: the {len(targets)} test targets pass unchanged ({seconds:.0f} s)")

        def in_a_copy(mutant):
            copy = copies.get()
            try:
                return run_mutant(mutant, copy, options.timeout)
            finally:
                copies.put(copy)

        with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
            results = []
            for mutant, outcome, seconds, failure in pool.map(in_a_copy, selected):
                print(f"{outcome:17} {seconds:6.1f} s  {mutant.id:45} {failure}", flush=True)
                results.append((mutant, outcome, failure))
    return report(results, torch, time.monotonic() - started)


def report(results, torch, seconds):
    killed = [mutant for mutant, outcome, _ in results if outcome.startswith("killed")]
    print(f"\nscore: {len(killed)} of {len(results)} mutants killed in {seconds:.0f} s "
          f"(PyTorch {'installed' if torch else 'not installed'})")
    failed = [(mutant, outcome, failure) for mutant, outcome, failure in results if not outcome.startswith("killed")]
    for mutant, outcome, failure in failed:
        print(f"{outcome}: {mutant.id}\n  {mutant.about}\n  {mutant.file}; tests: {' '.join(mutant.tests)}")
        if outcome.startswith("ERROR"):
            print(f"  pytest said: {failure}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
