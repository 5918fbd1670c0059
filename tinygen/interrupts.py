"""Stop signals (Ctrl-C, SIGTERM, SIGHUP) that stop a command cleanly and never leave a file half written.

    stop_signals_interrupt()   SIGTERM and SIGHUP raise ``KeyboardInterrupt`` as Ctrl-C does
    interrupts_deferred()      the signal waits until the block has finished: a checkpoint and its metrics are
                               written together, and a plot is drawn whole (matplotlib is not safe to interrupt)
"""
import contextlib
import signal
import threading

#: the signals that stop a command as Ctrl-C does: SIGINT, SIGTERM (``timeout``, ``kill``, a job scheduler) and
#: SIGHUP (the terminal or the ssh connection went away)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def stop_signals_interrupt():
    """Inside the block SIGTERM and SIGHUP raise ``KeyboardInterrupt`` as Ctrl-C does, so a run stopped by ``kill``,
    a scheduler or a dropped ssh connection says what it saved, puts back what ``--overwrite`` set aside and removes
    its lock and temporary files (a process that ignores one, under ``nohup`` say, goes on ignoring it). Only in the
    main thread, where Python handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS if number != signal.SIGINT}
    for number, handler in previous.items():
        if handler is signal.SIG_DFL:
            signal.signal(number, signal.default_int_handler)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def interrupts_deferred():
    """Ctrl-C (SIGINT), SIGTERM or SIGHUP inside the block is held until the block has finished, then acts as usual.

    Only in the main thread, where Python handles signals; elsewhere the block runs as is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {number: signal.signal(number, lambda signum, frame: received.append((signum, frame)))
                for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if not received:
        return
    number, frame = received[0]
    handler = previous[number]
    if callable(handler):
        handler(number, frame)
    elif handler is signal.SIG_DFL:
        if number == signal.SIGINT:
            raise KeyboardInterrupt
        signal.raise_signal(number)  # SIGTERM's default: the process ends, now that the files are whole
    # SIG_IGN: a process that ignored the signal goes on ignoring it
