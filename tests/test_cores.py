"""``tinygen.cores.map_on_cores``: independent pieces of work on a thread per BLAS thread, each product on one
BLAS thread, in the caller's grad mode, the results in order; and the draws that use it (``generate``, the
judge) give what one pass over all the codes gives.

The tests pretend the BLAS has two threads (``blas_threads``), so that they run the same on one core."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import tinygen
from tinygen import cores, nn
from tinygen.training import pictures

WAIT = 30.0  # seconds a test waits for a thread before it calls the run stuck


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(cores, "blas_threads", lambda: 2)


_real_blas_threads = cores.blas_threads  # the fixture replaces the module's; this one keeps reading the BLAS


def test_the_results_come_back_in_the_order_of_the_items(two_cores):
    assert cores.map_on_cores(lambda item: item * item, range(50)) == [item * item for item in range(50)]
    assert cores.map_on_cores(lambda item: item, []) == []


def test_two_items_run_at_the_same_time_on_two_threads(two_cores):
    """Each item waits for the other at a barrier: one after another, the first would wait forever."""
    barrier = threading.Barrier(2, timeout=WAIT)
    threads = cores.map_on_cores(lambda item: (barrier.wait(), threading.get_ident())[1], range(2))
    assert len(set(threads)) == 2 and threading.get_ident() not in threads


@pytest.mark.skipif(not cores._blas_controller().info(), reason="threadpoolctl finds no BLAS to limit")
def test_the_blas_runs_one_thread_per_item_and_gets_its_threads_back(two_cores):
    before = _real_blas_threads()
    assert cores.map_on_cores(lambda item: _real_blas_threads(), range(4)) == [1] * 4
    assert _real_blas_threads() == before


@pytest.mark.parametrize("grad_enabled", [True, False])
def test_each_item_runs_in_the_callers_grad_mode(two_cores, grad_enabled):
    with tinygen.set_grad_enabled(grad_enabled):
        modes = cores.map_on_cores(lambda item: tinygen.is_grad_enabled(), range(4))
    assert modes == [grad_enabled] * 4


def _printed_by(script, what):
    """What ``script`` prints, run in a Python process of its own (which a hang cannot take the tests down with)."""
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=WAIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} did not finish in {WAIT} s")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


NESTED = """
import threading
from tinygen import cores
cores.blas_threads = lambda: 2
def outer(item):
    return threading.get_ident(), cores.map_on_cores(lambda inner: threading.get_ident(), range(3))
print(all(inner == [thread] * 3 for thread, inner in cores.map_on_cores(outer, range(4))))
"""


def test_an_item_that_maps_again_runs_its_own_items_in_its_thread():
    """Nesting would wait for pool threads that are all busy waiting (for ever: its own process, since the pool's
    threads never end): the inner map runs in the item's thread."""
    assert _printed_by(NESTED, "map_on_cores inside map_on_cores") == "True"


FORKED = """
import os
from tinygen import cores
cores.blas_threads = lambda: 2
cores.map_on_cores(abs, range(4))  # the parent's pool threads now exist
child = os.fork()
if child == 0:
    os._exit(0 if cores.map_on_cores(abs, range(-4, 0)) == [4, 3, 2, 1] else 1)
print(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
def test_a_forked_child_maps_on_threads_of_its_own():
    """The parent's pool threads do not exist in a forked child: a map there on the parent's pool would wait for
    ever."""
    assert _printed_by(FORKED, "map_on_cores in a forked child") == "0"


def test_an_error_in_an_item_reaches_the_caller_and_the_blas_gets_its_threads_back(two_cores):
    before = _real_blas_threads()

    def fails_on_three(item):
        if item == 3:
            raise ValueError("item 3")
        return item

    with pytest.raises(ValueError, match="item 3"):
        cores.map_on_cores(fails_on_three, range(6))
    assert _real_blas_threads() == before


CTRL_C = """
import os, signal, time
from tinygen import cores
signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job starts with SIGINT ignored
threads, cores.blas_threads = cores.blas_threads, lambda: 2
before, started, ended = threads(), [], []
def item(number):
    started.append(number)
    if number == 1:
        time.sleep(0.2)  # every item is handed to the pool by now
        os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)
    ended.append(number)
try:
    cores.map_on_cores(item, range(40))
    print("no KeyboardInterrupt")
except KeyboardInterrupt:
    under_way = len(started) - len(ended)
    time.sleep(0.5)  # nothing else may start
    print(len(started), under_way, threads() == before)
"""


def test_ctrl_c_while_items_run_stops_the_map_and_cancels_the_items_not_started():
    """What Ctrl-C under ``tinygen sample`` or a run's per-epoch draw meets: SIGINT arrives while the main thread
    waits for the pool (in a process of its own: a test runner's worker may not run tests in the main thread, where
    signals arrive). The items not yet started never start, KeyboardInterrupt comes once the ones under way have
    ended (so a checkpoint written next cannot meet a batch still running in eval mode), and the BLAS gets its
    threads back."""
    printed = _printed_by(CTRL_C, "map_on_cores under Ctrl-C")
    started, under_way, restored = printed.split()
    assert int(started) < 15 and restored == "True", printed  # about 6; 25 when the rest start
    assert under_way == "0", printed


def test_with_one_blas_thread_or_one_item_the_items_run_in_the_calling_thread(monkeypatch):
    here = threading.get_ident()
    monkeypatch.setattr(cores, "blas_threads", lambda: 1)
    assert cores.map_on_cores(lambda item: threading.get_ident(), range(3)) == [here] * 3
    monkeypatch.setattr(cores, "blas_threads", lambda: 2)
    assert cores.map_on_cores(lambda item: threading.get_ident(), range(1)) == [here]


@pytest.mark.parametrize("device", ["strict", "cuda"])
def test_items_on_another_device_run_one_after_another_in_the_calling_thread(two_cores, device):
    """A GPU runs each batch on all of itself (and the strict stand-in does as CuPy)."""
    here = threading.get_ident()
    assert cores.map_on_cores(lambda item: threading.get_ident(), range(3), device) == [here] * 3


@pytest.mark.skipif(tinygen.get_default_device() != "cpu", reason="only the CPU backend spreads batches over cores")
@pytest.mark.parametrize("model", ["dcgan", "vae"])
def test_generate_spreads_the_batches_in_eval_mode_and_matches_one_pass(two_cores, model, monkeypatch):
    """Batches of 2 codes over two threads, two batches at once: every module runs in eval mode without a graph,
    the samples equal one pass over all the codes, and the networks go back to training mode. The caller switches
    the networks to eval mode once, before any batch starts: were each batch to switch them itself, the first to
    end would put them back in training mode while another still draws."""
    from tinygen.training import TrainConfig, build_recipe

    recipe = build_recipe(TrainConfig(model, progress=False, latent_dim=4))
    noise = tinygen.randn(9, 4)
    whole = recipe.generate(noise)
    seen, original_call = [], nn.Module.__call__
    barrier, thread = threading.Barrier(2, timeout=WAIT), threading.local()

    def recording_call(module, *args, **kwargs):
        if not getattr(thread, "met", False):  # each thread's first call waits for the other's: two batches at once
            thread.met = True
            barrier.wait()
        seen.append((module.training, tinygen.is_grad_enabled(), threading.get_ident()))
        return original_call(module, *args, **kwargs)

    modes_at_start, generate_batch = [], recipe.generate

    def watched_generate(z):
        modes_at_start.append([net.training for net in recipe.networks().values()])
        return generate_batch(z)

    monkeypatch.setattr(recipe, "generate", watched_generate)
    monkeypatch.setattr(pictures, "GENERATE_BATCH", 2)
    monkeypatch.setattr(nn.Module, "__call__", recording_call)
    spread = pictures.generate(recipe, noise)
    assert len(modes_at_start) == 5 and not any(any(modes) for modes in modes_at_start)
    assert seen and not any(training or grad for training, grad, _ in seen)
    assert len({thread for _, _, thread in seen}) == 2
    assert all(net.training for net in recipe.networks().values())
    np.testing.assert_allclose(spread.numpy(), whole.numpy(), rtol=1e-5, atol=1e-6)


def test_the_judges_scores_do_not_depend_on_how_its_batches_are_spread(monkeypatch):
    from tinygen.metrics import judge as judge_module

    judge = judge_module.load_judge()
    images = tinygen.rand(7, 1, 28, 28) * 2 - 1
    monkeypatch.setattr(judge_module, "BATCH", 7)
    features, probabilities = judge_module._features_and_probabilities(judge, images)
    monkeypatch.setattr(judge_module, "BATCH", 2)
    monkeypatch.setattr(cores, "blas_threads", lambda: 2)
    spread_features, spread_probabilities = judge_module._features_and_probabilities(judge, images)
    np.testing.assert_allclose(spread_features, features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(spread_probabilities, probabilities, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not cores._blas_controller().info(), reason="threadpoolctl finds no BLAS to limit")
def test_set_num_threads_sets_the_blas_threads_and_how_the_items_spread():
    """PyTorch's names: ``set_num_threads(1)`` runs the products on one BLAS thread and the items one after
    another; setting the count back restores both."""
    before = tinygen.get_num_threads()
    try:
        tinygen.set_num_threads(1)
        assert tinygen.get_num_threads() == _real_blas_threads() == 1
        here = threading.get_ident()
        assert cores.map_on_cores(lambda item: threading.get_ident(), range(3)) == [here] * 3
    finally:
        tinygen.set_num_threads(before)
    assert tinygen.get_num_threads() == _real_blas_threads() == before


@pytest.mark.parametrize("threads", [0, -2, 1.5, True, "2", None])
def test_set_num_threads_says_what_it_expected(threads):
    with pytest.raises(ValueError, match=r"set_num_threads: expected a positive whole number of threads, got "):
        tinygen.set_num_threads(threads)
