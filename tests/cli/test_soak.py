"""Soak: many runs in one process, and runs interrupted at random moments, give bit-identical results in flat memory.

* ``trainings`` short toy trainings into one directory (``--overwrite`` each time) end with the same weights and
  metrics as the first, bit for bit;
* ``samples`` runs of ``tinygen sample`` write the same bytes for the same seed;
* ``interruptions`` runs get Ctrl-C (a SIGINT, as from the terminal) at a random moment, then continue with
  ``--resume`` (or start again when nothing was saved) and end bit-identical to an uninterrupted run;
* the process's resident memory after a warm-up does not grow, and no tensor outlives its run.

The full soak (200 trainings, 200 samples, 20 interruptions: about 6 minutes on 2 cores) is marked ``soak``, which
the default ``pytest`` run deselects (setup.cfg); run it before each release:

    pytest -m soak tests/cli/test_soak.py

CI runs a short slice of it (marked ``slow``). ``TINYGEN_SOAK_SEED`` picks the random moments (default: 0).
"""
import _thread
import gc
import os
import random
import signal
import threading
import time

import numpy as np
import pytest

import tinygen
from tinygen.cli import main
from tinygen.training import TrainConfig, load_checkpoint, train
from tinygen.training.run_directory import LOCK_NAME
from tinygen.training.stops import Interrupted

FULL = dict(trainings=200, samples=200, interruptions=20)
SLICE = dict(trainings=4, samples=6, interruptions=3)
#: resident memory a long series of runs may gain after its warm-up (allocator noise, matplotlib's caches)
MEMORY_SLACK = 40 * 2**20


def config(out, **options):
    return TrainConfig("toy", epochs=2, subset=256, batch_size=64, eval_size=200, out=str(out), progress=False,
                       **options)


def result(out):
    """The run's weights and optimizer state (as host arrays) and its metrics without the timings."""
    checkpoint = load_checkpoint(os.path.join(out, "checkpoint.npz"))
    state = {f"{group}/{name}": np.asarray(value.numpy()) for group, part in checkpoint["state"].items()
             if group.startswith("model.") for name, value in part.items()}
    history = [{key: value for key, value in entry.items() if key != "seconds"} for entry in checkpoint["history"]]
    return state, history


def assert_identical(got, expected, what):
    (state, history), (expected_state, expected_history) = got, expected
    assert state.keys() == expected_state.keys(), what
    for name in state:
        assert np.array_equal(state[name], expected_state[name]), f"{what}: {name} differs"
    assert history == expected_history, what


def resident_bytes():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def live_tensors():
    gc.collect()
    return sum(isinstance(thing, tinygen.Tensor) for thing in gc.get_objects())


def interrupted_at(delay, run):
    """Run ``run()`` with a SIGINT delivered ``delay`` seconds in (as Ctrl-C would); the ``KeyboardInterrupt`` it
    raised, or ``None`` if it finished first."""
    def ctrl_c():
        _thread.interrupt_main(signal.SIGINT)

    timer, finished = threading.Timer(delay, ctrl_c), False
    try:
        timer.start()
        run()
        finished = True
        timer.join()    # a signal that arrives after the run lands in here, not in the test's next lines
        time.sleep(0.05)
    except KeyboardInterrupt as interrupt:
        timer.join()
        return None if finished else interrupt
    return None


def soak(tmp_path, trainings, samples, interruptions):
    seed = int(os.environ.get("TINYGEN_SOAK_SEED", "0"))
    moments = random.Random(seed)
    quiet = dict(log=lambda line: None)

    train(config(tmp_path / "reference"), **quiet)
    reference = result(tmp_path / "reference")

    memory, tensors = [], []
    for index in range(trainings):
        started = time.perf_counter()
        train(config(tmp_path / "again", overwrite=True), **quiet)
        duration = time.perf_counter() - started
        assert_identical(result(tmp_path / "again"), reference, f"training {index + 1}")
        if index == trainings // 4:   # after the warm-up
            memory.append(resident_bytes())
            tensors.append(live_tensors())
    memory.append(resident_bytes())
    tensors.append(live_tensors())

    grids = {}
    for index in range(samples):
        path = tmp_path / "grid.png"
        assert main(["sample", str(tmp_path / "reference" / "checkpoint.npz"), "--out", str(path), "--n", "16",
                     "--seed", str(index % 3)]) == 0
        assert grids.setdefault(index % 3, path.read_bytes()) == path.read_bytes(), f"sample {index + 1}"
    memory.append(resident_bytes())
    tensors.append(live_tensors())

    for index in range(interruptions):
        out = tmp_path / f"interrupted_{index}"
        delay = moments.uniform(0, 1.1 * duration)
        interrupt = interrupted_at(delay, lambda: train(config(out), **quiet))
        where = f"interruption {index + 1} at {delay:.3f} s (TINYGEN_SOAK_SEED={seed})"
        if interrupt is not None:
            assert isinstance(interrupt, Interrupted) or not (out / "checkpoint.npz").exists(), where
            assert not (out / LOCK_NAME).exists(), where
            resume = (out / "checkpoint.npz").exists()
            train(config(out, resume=resume), **quiet)
        assert_identical(result(out), reference, where)

    if memory[0] is not None:
        growth = max(memory) - memory[0]
        assert growth < MEMORY_SLACK, f"resident memory grew by {growth / 2**20:.1f} MB over the runs: {memory}"
    assert max(tensors) <= tensors[0], f"tensors alive between runs: {tensors}"


@pytest.mark.slow
def test_soak_slice(tmp_path):
    soak(tmp_path, **SLICE)


@pytest.mark.slow
@pytest.mark.soak
def test_soak(tmp_path):
    soak(tmp_path, **FULL)
