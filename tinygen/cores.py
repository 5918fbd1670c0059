"""Independent pieces of work on all the CPU cores the BLAS may use.

NumPy runs each array operation on one core; only its BLAS (the matrix products) uses more. A job that splits
into independent pieces (the batches of a forward pass without a graph: drawing samples, the judge's scores) runs
faster with a piece per core at a time, each piece's products on one BLAS thread: two pieces that each asked the
BLAS for every core would fight over the cores and run slower than one piece at a time. (A training step's
pieces depend on each other; its products already use every core.)

``map_on_cores(function, items, device)`` is ``[function(item) for item in items]``, run that way: on as many
threads as the BLAS has (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``set_num_threads`` or the cores;
threadpoolctl reads and limits them), with the BLAS held to one thread meanwhile. Each thread runs in the
caller's grad mode (a thread-local setting). The items run one after another in the calling thread instead for
arrays on another device than the CPU (a GPU runs each item on all of itself; the strict stand-in does as CuPy),
when the BLAS has one thread or there is one item, when threadpoolctl finds no BLAS it can limit, and inside one
of these threads (no nesting). A process forked from one that has the threads makes its own. When an item fails
or Ctrl-C comes, the items not started never start, and ``map_on_cores`` raises once the ones under way have
ended: what the caller does next (put a network back in training mode, save a checkpoint) never overlaps them.
Tests: tests/test_cores.py.
"""
import concurrent.futures
import functools
import os
import threading

from tinygen.autograd.grad_mode import is_grad_enabled, set_grad_enabled


class _Worker(threading.local):
    active = False  # True in a thread while it runs an item of map_on_cores


_worker = _Worker()


@functools.lru_cache(maxsize=None)
def _blas_controller():
    """threadpoolctl's handle on the BLAS libraries loaded in this process (made once: it scans them)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def blas_threads():
    """How many threads the BLAS runs a product on (the fewest, if several BLAS libraries are loaded); 1 when
    threadpoolctl finds none it can limit."""
    return min((library["num_threads"] for library in _blas_controller().info()), default=1)


def get_num_threads():
    """PyTorch's ``torch.get_num_threads()``: the threads a product and ``map_on_cores`` use (``blas_threads``)."""
    return blas_threads()


def set_num_threads(threads):
    """PyTorch's ``torch.set_num_threads(n)``: from here on products run on ``n`` BLAS threads, and
    ``map_on_cores`` spreads its items over ``n`` threads (one: one after another). Without a BLAS that threadpoolctl
    can limit there is nothing to set, and everything runs on one thread."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"set_num_threads: expected a positive whole number of threads, got {threads!r}")
    _blas_controller().limit(limits=threads)


@functools.lru_cache(maxsize=None)
def _pool(threads):
    return concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tinygen-core")


if hasattr(os, "register_at_fork"):  # a forked child has none of its parent's threads: it makes pools of its own
    os.register_at_fork(after_in_child=_pool.cache_clear)


def map_on_cores(function, items, device="cpu"):
    """``[function(item) for item in items]``, the items spread over a thread per BLAS thread, each product on
    one BLAS thread, when their arrays live on ``device`` "cpu"; on another device one after another (see the
    module's docstring for the other times it does so)."""
    items = list(items)
    threads = 1 if device != "cpu" or _worker.active else blas_threads()  # no BLAS query for a GPU's arrays
    if threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    run = functools.partial(_run_in_worker, function, is_grad_enabled())
    with _blas_controller().limit(limits=1):
        futures = [_pool(threads).submit(run, item) for item in items]
        try:
            return [future.result() for future in futures]
        finally:  # an error or Ctrl-C: the items not started never start, and the caller goes on after the rest end
            for future in futures:
                future.cancel()
            concurrent.futures.wait(futures)


def _run_in_worker(function, grad_enabled, item):
    _worker.active = True
    try:
        with set_grad_enabled(grad_enabled):
            return function(item)
    finally:
        _worker.active = False
