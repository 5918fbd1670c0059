"""No raw traceback from the command line, and true words on Ctrl-C (probes: `--latent-dim 100000000000` and
`sample --n 1000000000000` were MemoryError tracebacks; `--batch-size 1` for DCGAN gave an internal batch-norm
message; Ctrl-C said "the last checkpoint written is intact; continue with --resume" when no checkpoint existed, and
also under `tinygen sample` and `exercises check`; WGAN-GP's loss_g was missing from metrics.csv and the plot)."""
import os
import signal

import pytest

from tinygen import cli
from tinygen.interrupts import interrupts_deferred
from tinygen.training import load_checkpoint
from tinygen.training.gan import GANRecipe
from tinygen.viz import plots

from .conftest import TOY, snapshot


def raises(error):
    def command(*args, **options):
        raise error

    return command


@pytest.mark.parametrize("error", [AttributeError("'list' object has no attribute 'items'"), KeyError("loss"),
                                   ZeroDivisionError("division by zero"), RecursionError("maximum recursion depth")])
def test_an_unexpected_error_is_one_line_that_points_to_debug(error, tinygen, monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "info", raises(error))
    outcome = tinygen("info")
    assert outcome.status == 2
    line = outcome.one_line_error
    assert line.startswith(f"tinygen info: error: unexpected {type(error).__name__}: ")
    assert line.endswith("(a bug in tinygen: please report it; run with --debug for the traceback)")


@pytest.mark.parametrize("arguments", [["--debug", "info"], ["info", "--debug"]])
def test_debug_before_or_after_the_command_shows_the_traceback(arguments, tinygen, monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "info", raises(AttributeError("boom")))
    outcome = tinygen(*arguments)
    assert outcome.status == 2
    assert "Traceback (most recent call last)" in outcome.err and "AttributeError: boom" in outcome.err
    assert outcome.err.rstrip().splitlines()[-1] == "tinygen info: error: unexpected AttributeError: boom (a bug in " \
                                                     "tinygen: please report it)"


def test_debug_is_accepted_after_a_nested_command(tinygen):
    assert tinygen("exercises", "list", "--debug").status == 0


def test_an_expected_error_with_debug_still_says_what_went_wrong(tinygen, tmp_path):
    outcome = tinygen("train", "toy", "--epochs", "0", "--out", tmp_path, "--debug")
    assert outcome.status == 2 and "Traceback" in outcome.err
    assert outcome.err.rstrip().splitlines()[-1] == "tinygen train: error: epochs must be a positive integer, got 0"


def test_a_huge_latent_size_names_the_setting(tinygen, tmp_path):
    """10**15 latent dimensions ask for more than any address space, so the allocation fails on every machine."""
    outcome = tinygen("train", "toy", "--latent-dim", 10**15, "--out", tmp_path / "run", "--no-progress")
    assert outcome.status == 2
    assert "tinygen train: error: not enough memory for latent_dim 1000000000000000 (--latent-dim): Unable to " \
           "allocate" in outcome.one_line_error
    assert not (tmp_path / "run").exists()


def overcommits_everything():
    try:
        with open("/proc/sys/vm/overcommit_memory") as setting:
            return setting.read().strip() == "1"
    except OSError:
        return True  # unknown: don't ask for 46 TiB


@pytest.mark.skipif(overcommits_everything(), reason="the kernel may grant 46 TiB and kill the process later")
def test_the_probes_latent_size_names_the_setting(tinygen, tmp_path):
    outcome = tinygen("train", "toy", "--latent-dim", "100000000000", "--out", tmp_path / "run", "--no-progress")
    assert outcome.status == 2 and "not enough memory for latent_dim 100000000000 (--latent-dim)" in \
        outcome.one_line_error


def test_a_memory_error_elsewhere_is_one_line_naming_the_settings_that_size_memory(tinygen, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "train", raises(MemoryError()))
    outcome = tinygen("train", "toy", "--out", tmp_path)
    assert outcome.status == 2
    assert outcome.one_line_error == "tinygen train: error: not enough memory (MemoryError); smaller --batch-size or " \
                                     "--latent-dim need less"


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp"])
def test_batch_size_one_with_batch_norm_is_refused_up_front(model, tinygen, tmp_path):
    outcome = tinygen("train", model, "--batch-size", "1", "--out", tmp_path / "run")
    assert outcome.status == 2
    assert f"batch_size must be at least 2 for a model with batch norm ({model}), got 1" in outcome.one_line_error


# --- Ctrl-C -------------------------------------------------------------------------------------------------------

def interrupt_at_step(monkeypatch, step):
    """Ctrl-C during the ``step``-th training step (counted over the whole run) of a GAN recipe."""
    original, taken = GANRecipe.train_step, []

    def train_step(recipe, real):
        taken.append(1)
        if len(taken) == step:
            raise KeyboardInterrupt
        return original(recipe, real)

    monkeypatch.setattr(GANRecipe, "train_step", train_step)


def test_ctrl_c_before_the_first_checkpoint_says_nothing_was_saved(tinygen, monkeypatch, tmp_path):
    interrupt_at_step(monkeypatch, 2)
    out = tmp_path / "run"
    outcome = tinygen("train", "toy", "--epochs", "1", "--subset", "512", "--out", out, "--no-progress")
    assert outcome.status == 130
    assert outcome.err.strip() == "interrupted during epoch 1, before the first checkpoint: nothing was saved; run " \
                                  "the same command again to start over"
    assert not out.exists()  # it made the directory and wrote nothing in it
    monkeypatch.undo()
    assert tinygen("train", "toy", "--epochs", "1", "--subset", "512", "--out", out, "--no-progress").status == 0


def test_ctrl_c_after_a_checkpoint_names_it_and_resume_continues(tinygen, monkeypatch, tmp_path):
    interrupt_at_step(monkeypatch, 3)  # epoch 2's first step (2 steps per epoch)
    out = tmp_path / "run"
    outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "512", "--out", out, "--no-progress")
    assert outcome.status == 130
    assert outcome.err.strip() == f"interrupted during epoch 2: {out / 'checkpoint.npz'} (after epoch 1) is intact; " \
                                  "continue with --resume and the same settings"
    monkeypatch.undo()
    outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "512", "--out", out, "--no-progress", "--resume")
    assert outcome.status == 0 and load_checkpoint(out / "checkpoint.npz")["epochs_done"] == 2


def test_ctrl_c_under_sample_says_what_was_written(tinygen, toy_run, monkeypatch, tmp_path):
    from tinygen.training import pictures

    monkeypatch.setattr(pictures, "save_samples", raises(KeyboardInterrupt()))
    outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / "grid.png")
    assert outcome.status == 130 and outcome.err.strip() == "interrupted: nothing was written"
    assert os.listdir(tmp_path) == ["run"]


def test_ctrl_c_under_exercises_check_says_grading_stopped(tinygen, monkeypatch, tmp_path):
    monkeypatch.setitem(cli.COMMANDS, "exercises", raises(KeyboardInterrupt()))
    outcome = tinygen("exercises", "check", tmp_path)
    assert outcome.status == 130
    assert outcome.err.strip() == "interrupted: grading stopped before it finished, so no result was given; run the " \
                                  "check again"
    assert "checkpoint" not in outcome.err and "--resume" not in outcome.err


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="needs POSIX signals")
def test_ctrl_c_while_a_checkpoint_and_its_metrics_are_written_waits_for_both():
    finished = []
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, however pytest was started
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupts_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                finished.append("checkpoint")
                finished.append("metrics")
        assert finished == ["checkpoint", "metrics"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, outer)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="needs POSIX signals")
def test_ctrl_c_while_a_plot_is_drawn_stops_after_its_file_is_whole(monkeypatch, tmp_path):
    """CI: a soak run interrupted at random stopped with "ValueError: Invalid bounding box": matplotlib's C code
    swallows a KeyboardInterrupt that lands in it and reports a bad argument (about 1 Ctrl-C in 300 during a loss
    plot; others were printed as "Exception ignored" and lost). A plot now holds the signal until its file is
    written."""
    write = plots.atomic_write

    def interrupted_while_drawing(path, draw, **options):
        os.kill(os.getpid(), signal.SIGINT)  # as if Ctrl-C came while matplotlib draws and writes
        return write(path, draw, **options)

    monkeypatch.setattr(plots, "atomic_write", interrupted_while_drawing)
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, however pytest was started
    try:
        with pytest.raises(KeyboardInterrupt):
            plots.plot_history([{"epoch": 1, "loss_d": 1.3, "loss_g": 0.7}, {"epoch": 2, "loss_d": 1.2, "loss_g": 0.9}],
                               tmp_path / "losses.png")
        assert (tmp_path / "losses.png").read_bytes().startswith(b"\x89PNG")
        assert os.listdir(tmp_path) == ["losses.png"]  # no temporary file left
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, outer)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="needs POSIX signals")
def test_a_process_that_ignores_ctrl_c_still_ignores_it_after_the_writes():
    """A job started in the background (or under nohup) ignores SIGINT: deferring it must not turn it into an
    interrupt."""
    outer = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, outer)


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="needs POSIX signals")
def test_sigterm_stops_a_run_as_ctrl_c_does(tinygen, monkeypatch, tmp_path):
    """Probe: SIGTERM (`timeout`, `kill`, a scheduler) ended a run with no word of what was saved, leaving the lock
    file and a 14 MB temporary checkpoint behind."""
    outer = signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as a process starts, however pytest was started
    try:
        original, taken = GANRecipe.train_step, []

        def train_step(recipe, real):
            taken.append(1)
            if len(taken) == 3:  # epoch 2's first step
                os.kill(os.getpid(), signal.SIGTERM)
            return original(recipe, real)

        monkeypatch.setattr(GANRecipe, "train_step", train_step)
        out = tmp_path / "run"
        outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "512", "--out", out, "--no-progress")
        assert outcome.status == 130
        assert outcome.err.strip() == f"interrupted during epoch 2: {out / 'checkpoint.npz'} (after epoch 1) is " \
                                      "intact; continue with --resume and the same settings"
        assert not [name for name in os.listdir(out) if name.startswith(".")]  # no lock, no temporary file
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, outer)


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="needs POSIX signals")
def test_sigterm_while_a_checkpoint_is_written_waits_for_it():
    finished = []
    outer = signal.signal(signal.SIGTERM, signal.default_int_handler)  # what `tinygen` installs
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupts_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                finished.append("checkpoint")
                finished.append("metrics")
        assert finished == ["checkpoint", "metrics"]
    finally:
        signal.signal(signal.SIGTERM, outer)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="needs POSIX signals")
def test_a_dropped_ssh_connection_during_an_overwrite_puts_the_previous_run_back(tinygen, toy_run, monkeypatch):
    """Probe: SIGHUP (the terminal or ssh connection went away) in the first epoch of an --overwrite run killed it
    outright: the previous run stayed in the hidden .previous-run/ and the directory looked empty. It now stops as
    Ctrl-C does, and puts the previous run back."""
    before = snapshot(toy_run)
    outer = signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as a process starts under a terminal
    try:
        original = GANRecipe.train_step

        def train_step(recipe, real):
            os.kill(os.getpid(), signal.SIGHUP)
            return original(recipe, real)

        monkeypatch.setattr(GANRecipe, "train_step", train_step)
        outcome = tinygen("train", "toy", *TOY, "--out", toy_run, "--overwrite")
        assert outcome.status == 130
        assert outcome.err.strip().endswith(f"the previous run that --overwrite set aside is back in {toy_run}")
        assert snapshot(toy_run) == before
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, outer)


# --- WGAN-GP's columns ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_metric_first_reported_in_a_later_epoch_gets_its_column_and_curve(tinygen, tmp_path, monkeypatch):
    """WGAN-GP trains G every --n-critic steps: with 2 steps per epoch and --n-critic 3, epoch 1 has no loss_g."""
    import matplotlib.axes

    curves = []
    original = matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot",
                        lambda axis, *args, **options: curves.append(options.get("label")) or original(axis, *args,
                                                                                                        **options))
    out = tmp_path / "run"
    outcome = tinygen("train", "wgan-gp", "--epochs", "2", "--subset", "64", "--batch-size", "32", "--n-critic", "3",
                      "--out", out, "--no-progress")
    assert outcome.status == 0, outcome
    header, first, second = (out / "metrics.csv").read_text().splitlines()
    columns = header.split(",")
    assert "loss_g" in columns and "loss_c" in columns
    assert first.split(",")[columns.index("loss_g")] == "" and second.split(",")[columns.index("loss_g")] != ""
    assert "loss_g" in curves


@pytest.mark.parametrize("epoch, saved, trained, message", [
    (None, None, False, "interrupted before training started, before the first checkpoint: nothing was saved"),
    (1, None, False, "interrupted during epoch 1, before the first checkpoint: nothing was saved"),
    (3, 2, False, "interrupted during epoch 3: OUT/checkpoint.npz (after epoch 2) is intact; continue with --resume"),
    (2, 2, False, "interrupted while drawing epoch 2's pictures: OUT/checkpoint.npz (after epoch 2) is intact"),
    (None, 4, True, "interrupted while drawing the final pictures: OUT/checkpoint.npz (after epoch 4) is intact"),
])
def test_the_words_of_an_interruption_follow_what_was_saved(epoch, saved, trained, message):
    from tinygen.training.loop import _Progress

    progress = _Progress()
    progress.epoch, progress.saved, progress.trained = epoch, saved, trained
    assert progress.interrupted(None, "OUT/checkpoint.npz").startswith(message)


def test_done_names_only_the_pictures_the_run_drew(tinygen, tmp_path):
    """A toy run draws no latent walk: "done" does not send the user looking for one."""
    outcome = tinygen("train", "toy", *TOY, "--out", tmp_path / "run")
    assert outcome.status == 0
    assert outcome.out.splitlines()[-1] == f"done: see {tmp_path / 'run' / 'samples.png'}, losses.png, metrics.csv"


# --- an error after a checkpoint says the training is saved ---------------------------------------------------------

def disk_full(*args, **kwargs):
    raise OSError(28, "cannot write 'losses.png': No space left on device (nothing was written)")


def test_a_full_disk_at_the_final_pictures_says_the_trained_run_is_saved(tinygen, monkeypatch, tmp_path):
    """Probe: a disk that filled up while the final pictures were drawn gave only "cannot write 'losses.png'", so a
    finished run looked failed (and --overwrite would have thrown the trained epochs away). The line says they are
    saved, and --resume draws the pictures."""
    from tinygen.training import loop

    out = tmp_path / "run"
    monkeypatch.setattr(loop, "plot_history", disk_full)
    outcome = tinygen("train", "toy", *TOY, "--out", out)
    assert outcome.status == 2
    assert outcome.one_line_error.endswith(f"No space left on device (nothing was written); the training is saved: "
                                           f"{out / 'checkpoint.npz'} holds all 1 epochs; --resume with the same "
                                           "settings draws the final pictures")
    monkeypatch.undo()
    assert tinygen("train", "toy", *TOY, "--out", out, "--resume").status == 0 and (out / "losses.png").exists()


def test_an_error_in_a_later_epoch_names_the_checkpoint_kept(tinygen, monkeypatch, tmp_path):
    from tinygen.training import loop

    original, calls = loop.save_checkpoint, []

    def save_checkpoint(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            disk_full()
        original(*args, **kwargs)

    out = tmp_path / "run"
    monkeypatch.setattr(loop, "save_checkpoint", save_checkpoint)
    outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "256", "--no-progress", "--out", out)
    assert outcome.status == 2
    assert outcome.one_line_error.endswith(f"; {out / 'checkpoint.npz'} (after epoch 1) is intact; continue with "
                                           "--resume and the same settings")


def test_an_error_before_the_first_checkpoint_of_an_overwrite_says_the_previous_run_is_back(tinygen, toy_run,
                                                                                               monkeypatch):
    from tinygen.training import loop

    monkeypatch.setattr(loop, "save_checkpoint", disk_full)
    outcome = tinygen("train", "toy", *TOY, "--out", toy_run, "--overwrite")
    assert outcome.status == 2
    assert outcome.one_line_error.endswith(f"; the previous run that --overwrite set aside is back in {toy_run}")
    assert (toy_run / "checkpoint.npz").exists() and (toy_run / "samples.png").exists()


def test_resume_without_epochs_keeps_the_runs_own_length(tinygen, monkeypatch, tmp_path):
    """Probe: `--resume` without `--epochs` trained to today's default (a toy's 20; an older DCGAN's 8 epochs went on
    to today's default), not to the length the run was started with: a 3-epoch run went on to 20."""
    interrupt_at_step(monkeypatch, 2)
    out = tmp_path / "run"
    arguments = ["train", "toy", "--subset", "256", "--no-progress", "--out", out]
    assert tinygen(*arguments, "--epochs", "3").status == 130
    monkeypatch.undo()
    outcome = tinygen(*arguments, "--resume")
    assert outcome.status == 0 and "training toy for 3 epochs" in outcome.out
    assert load_checkpoint(out / "checkpoint.npz")["epochs_done"] == 3
    assert tinygen(*arguments, "--resume", "--epochs", "4").status == 0
    assert load_checkpoint(out / "checkpoint.npz")["epochs_done"] == 4
