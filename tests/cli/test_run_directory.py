"""A run directory belongs to one run (probes: "`tinygen train gan --out DIR` into a directory that holds a finished
run replaces it without a word", "two `tinygen train` runs into the same --out at once both report done").

A fresh run into another run's directory stops before any work and names --resume, --out and --overwrite;
--overwrite sets the old run's outputs aside (nothing else), deletes them at the new run's first checkpoint and
puts them back if the new run ends before it; a second process writing into a run directory stops at
once, naming the first; the lock of a killed run does not get stuck; a run that fails its checks leaves nothing."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tinygen.training import TrainConfig, load_checkpoint, loop, train
from tinygen.training.run_directory import LOCK_NAME, PREVIOUS, RunDirectory, RunDirectoryInUse, RunDirectoryTaken

from .conftest import TOY, snapshot


def test_a_fresh_run_into_a_finished_runs_directory_stops_before_any_work(tinygen, toy_run):
    """Probe: `tinygen train gan --out DIR` over a finished toy run. Expected: exit 2, one line naming the three ways
    on, and the old run untouched (not a byte changed, nothing added)."""
    before = snapshot(toy_run)
    outcome = tinygen("train", "gan", "--epochs", "1", "--subset", "64", "--out", toy_run, "--no-progress")
    assert outcome.status == 2
    line = outcome.one_line_error
    assert line.startswith(f"tinygen train: error: {toy_run} holds another run (checkpoint.npz, ")
    assert "--resume" in line and "another --out" in line and "--overwrite" in line
    assert snapshot(toy_run) == before
    assert "epoch 1" not in outcome.out  # no work was done


@pytest.mark.parametrize("leftover", ["metrics.json", "samples.png", os.path.join("samples", "epoch_001.png")])
def test_any_output_of_a_run_marks_the_directory_as_taken(leftover, tmp_path):
    (tmp_path / "samples").mkdir()
    (tmp_path / leftover).write_bytes(b"a picture of another run")
    with pytest.raises(RunDirectoryTaken, match="holds another run"):
        train(TrainConfig("toy", epochs=1, subset=256, out=str(tmp_path), progress=False), log=lambda line: None)
    assert (tmp_path / leftover).read_bytes() == b"a picture of another run"


@pytest.mark.parametrize("mine", ["samples.png", "real.png", os.path.join("samples", "epoch_001.png")])
def test_overwrite_leaves_files_that_are_no_runs_outputs(mine, tinygen, tmp_path):
    """Probe: `tinygen sample ... ` (its grid is samples.png by default) and then `tinygen train toy --out .`: refused,
    "holds another run (samples.png)", and with the --overwrite it proposed, the user's grid (or their real.png)
    was deleted, in a directory that held no run. Without a checkpoint or metrics there is no run to replace."""
    (tmp_path / "samples").mkdir()
    (tmp_path / mine).write_bytes(b"mine")
    expected = (f"tinygen train: error: {tmp_path} holds another run ({mine}) without its checkpoint.npz or "
                "metrics.json, or files of yours by those names: move them, or train into another --out directory")
    for overwrite in ([], ["--overwrite"]):
        outcome = tinygen("train", "toy", *TOY, "--out", tmp_path, *overwrite)
        assert outcome.status == 2 and outcome.one_line_error == expected
    assert (tmp_path / mine).read_bytes() == b"mine" and not (tmp_path / PREVIOUS).exists()


def test_a_directory_with_other_files_only_is_free(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    train(TrainConfig("toy", epochs=1, subset=256, eval_size=200, out=str(tmp_path), progress=False),
          log=lambda line: None)
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "checkpoint.npz").exists()


@pytest.mark.slow
def test_overwrite_replaces_another_models_run_and_only_its_files(tinygen, tmp_path):
    """An old VAE run (with real.png and latent_walk.gif, which a toy run does not write, and 2 epoch pictures)
    replaced by a one-epoch toy run: none of the old pictures is left to mix with the new ones, the user's own
    files stay."""
    out = tmp_path / "run"
    assert tinygen("train", "vae", "--epochs", "2", "--subset", "128", "--out", out, "--no-progress").status == 0
    (out / "notes.txt").write_text("mine")
    (out / "samples" / "my_drawing.png").write_bytes(b"mine too")
    outcome = tinygen("train", "toy", *TOY, "--out", out, "--overwrite")
    assert outcome.status == 0, outcome
    assert "--overwrite: the previous run's 9 files are set aside in" in outcome.out
    assert sorted(os.listdir(out)) == sorted(["checkpoint.npz", "losses.png", "metrics.csv", "metrics.json",
                                              "notes.txt", "samples", "samples.png"])
    assert sorted(os.listdir(out / "samples")) == ["epoch_001.png", "my_drawing.png"]
    assert load_checkpoint(out / "checkpoint.npz")["model"] == "toy"
    assert [entry["epoch"] for entry in json.loads((out / "metrics.json").read_text())] == [1]


def test_overwrite_removes_the_old_run_only_after_the_new_settings_pass_their_checks(tinygen, toy_run):
    before = snapshot(toy_run)
    outcome = tinygen("train", "toy", "--subset", "10", "--batch-size", "64", "--out", toy_run, "--overwrite",
                      "--no-progress")
    assert outcome.status == 2 and "batch_size 64 is larger than the 10 training samples" in outcome.one_line_error
    assert snapshot(toy_run) == before


def test_resume_and_overwrite_together_are_refused(tinygen, toy_run):
    outcome = tinygen("train", "toy", *TOY, "--out", toy_run, "--resume", "--overwrite")
    assert outcome.status == 2 and "choose one" in outcome.one_line_error


def test_resume_is_still_allowed_into_its_own_directory(tinygen, toy_run):
    outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "256", "--no-progress", "--out", toy_run, "--resume")
    assert outcome.status == 0, outcome
    assert load_checkpoint(toy_run / "checkpoint.npz")["epochs_done"] == 2


def test_a_run_with_other_betas_resumes_only_given_them_back(tinygen, toy_run):
    """A default changes between releases (wgan-gp's betas did): the refusal names the betas, leaves the run as it
    was, and ``--betas`` given back continues it."""
    arguments = ("train", "toy", "--epochs", "2", "--subset", "256", "--no-progress", "--out", toy_run, "--resume")
    before = snapshot(toy_run)
    outcome = tinygen(*arguments, "--betas", "0.0", "0.9")
    assert outcome.status == 2 and "betas [0.0, 0.9] here, [0.5, 0.999] in the checkpoint" in outcome.one_line_error
    assert snapshot(toy_run) == before
    outcome = tinygen(*arguments, "--betas", "0.5", "0.999")
    assert outcome.status == 0, outcome
    assert load_checkpoint(toy_run / "checkpoint.npz")["epochs_done"] == 2


# --- one process at a time ------------------------------------------------------------------------------------------

HOLDS_THE_LOCK = """
import sys, time
from tinygen.training.run_directory import RunDirectory
with RunDirectory(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def start_python(*arguments):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs fcntl and SIGKILL (POSIX)")
def test_a_second_process_stops_at_once_naming_the_first_and_a_killed_holder_leaves_nothing_stuck(tinygen, tmp_path):
    out = tmp_path / "run"
    holder = start_python("-c", HOLDS_THE_LOCK, str(out))
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        outcome = tinygen("train", "toy", *TOY, "--out", out)
        assert time.monotonic() - started < 10
        assert outcome.status == 2
        line = outcome.one_line_error
        assert f"{out} is in use by another tinygen process (pid {holder.pid}: " in line, line
        assert "--out" in line
        assert os.listdir(out) == [LOCK_NAME]  # nothing written by the refused run
    finally:
        holder.kill()
        holder.wait()
    outcome = tinygen("train", "toy", *TOY, "--out", out)  # the killed holder's lock went with it
    assert outcome.status == 0, outcome
    assert not (out / LOCK_NAME).exists()


def test_the_lock_is_held_while_a_run_lasts_and_released_after(tmp_path):
    with RunDirectory(tmp_path) as run:
        assert (tmp_path / LOCK_NAME).read_text().startswith(f"pid {os.getpid()}: ")
        with pytest.raises(RunDirectoryInUse, match=f"pid {os.getpid()}"):
            RunDirectory(tmp_path).__enter__()
        assert run.previous_outputs() == []
    assert not (tmp_path / LOCK_NAME).exists()
    with RunDirectory(tmp_path):
        pass


def test_a_stale_lock_file_without_a_holder_does_not_block(tmp_path):
    (tmp_path / LOCK_NAME).write_text("pid 999999: tinygen train toy, since long ago\n")
    train(TrainConfig("toy", epochs=1, subset=256, eval_size=200, out=str(tmp_path), progress=False),
          log=lambda line: None)
    assert (tmp_path / "checkpoint.npz").exists() and not (tmp_path / LOCK_NAME).exists()


@pytest.mark.slow
def test_two_train_commands_into_one_directory_at_once(tmp_path):
    """Probe: two `tinygen train` into the same --out at once. Expected: the first finishes ("done"), the second
    stops at once with exit 2 naming the first's pid; the first run's results are all there."""
    out = str(tmp_path / "run")
    command = ["-m", "tinygen", "train", "toy", "--epochs", "3", "--subset", "2048", "--out", out, "--no-progress"]
    first = start_python(*command)
    try:
        assert first.stdout.readline().startswith("tinygen ")  # past its checks: it holds the directory
        second = start_python(*command)
        _, error = second.communicate(timeout=120)
        assert second.returncode == 2, error
        assert f"is in use by another tinygen process (pid {first.pid}:" in error and "Traceback" not in error
        output, error = first.communicate(timeout=300)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0 and "done" in output, error
    assert load_checkpoint(os.path.join(out, "checkpoint.npz"))["epochs_done"] == 3


# --- failing early leaves nothing -------------------------------------------------------------------------------------

def test_a_run_that_fails_its_checks_leaves_no_directory_and_no_empty_samples_folder(tinygen, tmp_path):
    """Probe: "runs that fail validation late leave an empty OUT/samples/". Expected: nothing left at all."""
    new = tmp_path / "new"
    outcome = tinygen("train", "toy", "--subset", "10", "--batch-size", "64", "--out", new, "--no-progress")
    assert outcome.status == 2 and not new.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    assert tinygen("train", "toy", "--subset", "10", "--batch-size", "64", "--out", existing,
                   "--no-progress").status == 2
    assert os.listdir(existing) == []


def test_overwrite_interrupted_before_its_first_checkpoint_puts_the_previous_run_back(tinygen, toy_run, monkeypatch):
    """Probe: `--overwrite` then Ctrl-C in the first epoch left the directory empty: the old run removed, no new one."""
    from .test_errors_and_interrupts import interrupt_at_step

    before = snapshot(toy_run)
    interrupt_at_step(monkeypatch, 1)
    outcome = tinygen("train", "toy", *TOY, "--out", toy_run, "--overwrite")
    assert outcome.status == 130
    assert outcome.err.strip().endswith(f"nothing was saved; run the same command again to start over; the previous "
                                        f"run that --overwrite set aside is back in {toy_run}")
    assert snapshot(toy_run) == before and not (toy_run / PREVIOUS).exists()


def test_a_restore_cut_short_is_finished_by_the_next_run_and_never_deleted(toy_run, monkeypatch):
    """Probe: a second Ctrl-C while --overwrite put the previous run back could leave its checkpoint back in place
    and its other files still in .previous-run/, which the next run then deleted as the leftovers of a run that had
    saved. The checkpoint goes back last, so the next run finishes the restore."""
    from tinygen.training import run_directory

    before = snapshot(toy_run)
    run = RunDirectory(toy_run)
    run.set_aside_previous()
    original, moved = os.replace, []

    def replace(source, target):
        if moved and moved[-1] == "checkpoint.npz":
            raise KeyboardInterrupt  # the second Ctrl-C, just after the checkpoint went back
        original(source, target)
        moved.append(os.path.basename(target))

    monkeypatch.setattr(run_directory.os, "replace", replace)
    try:
        run.restore_previous()
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    with pytest.raises(RunDirectoryTaken):
        RunDirectory(toy_run).claim()
    assert snapshot(toy_run) == before and not (toy_run / PREVIOUS).exists()


def test_overwrite_keeps_the_previous_run_until_the_first_checkpoint_then_deletes_it(toy_run, monkeypatch):
    old_checkpoint, kept = (toy_run / "checkpoint.npz").read_bytes(), []
    original = loop.save_checkpoint

    def save_checkpoint(*args, **kwargs):
        previous = toy_run / PREVIOUS / "checkpoint.npz"
        kept.append(previous.read_bytes() if previous.exists() else None)
        original(*args, **kwargs)

    monkeypatch.setattr(loop, "save_checkpoint", save_checkpoint)
    train(TrainConfig("toy", epochs=2, subset=256, out=str(toy_run), progress=False, overwrite=True),
          log=lambda line: None)
    assert kept == [old_checkpoint, None]
    assert not (toy_run / PREVIOUS).exists() and load_checkpoint(toy_run / "checkpoint.npz")["epochs_done"] == 2


@pytest.mark.parametrize("new_run_saved", [False, True])
def test_after_an_overwrite_run_was_killed_the_run_with_a_checkpoint_is_kept(new_run_saved, toy_run):
    """A kill -9 leaves the set-aside run in PREVIOUS: the next command keeps whichever run has a checkpoint."""
    run = RunDirectory(str(toy_run))
    old = snapshot(toy_run)
    run.set_aside_previous()
    if new_run_saved:
        (toy_run / "checkpoint.npz").write_bytes(b"the new run's first checkpoint")
    with RunDirectory(str(toy_run)) as again:
        found = again.claim(overwrite=True)
    assert not (toy_run / PREVIOUS).exists()
    if new_run_saved:
        assert found == ["checkpoint.npz"]
    else:
        assert snapshot(toy_run) == old


def test_resume_draws_the_last_epochs_picture_if_a_kill_left_it_out(toy_run):
    """Probe: a run killed after epoch 2's checkpoint but before samples/epoch_002.png never got that picture, even
    after --resume. Resuming draws it again, byte for byte the picture the run would have drawn."""
    drawn = (toy_run / "samples" / "epoch_001.png").read_bytes()
    (toy_run / "samples" / "epoch_001.png").unlink()
    train(TrainConfig("toy", epochs=1, subset=256, out=str(toy_run), progress=False, resume=True),
          log=lambda line: None)
    assert (toy_run / "samples" / "epoch_001.png").read_bytes() == drawn


def test_an_out_that_is_a_broken_symbolic_link_says_so(tinygen, tmp_path):
    """Probe: `--out LINK`, a link to a directory not there (an unmounted disk, a moved folder), said LINK "is a
    file"."""
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "missing")
    outcome = tinygen("train", "toy", *TOY, "--out", link)
    assert outcome.status == 2
    assert f"the output directory '{link}' is a symbolic link to '{tmp_path / 'missing'}', which does not exist" in \
        outcome.one_line_error
    assert not (tmp_path / "missing").exists()


def test_an_out_that_is_a_file_or_holds_a_file_named_samples_is_refused_before_any_work(tinygen, toy_run, tmp_path):
    """Probes: `--out CHECKPOINT` said "File exists"; a file named `samples` in --out failed with "[Errno 17] File
    exists" after a whole epoch of training."""
    before = snapshot(toy_run)
    outcome = tinygen("train", "toy", *TOY, "--out", toy_run / "checkpoint.npz")
    assert outcome.status == 2
    assert f"the output directory '{toy_run / 'checkpoint.npz'}' is a file: name a directory for the run" in \
        outcome.one_line_error
    out = tmp_path / "fresh"
    out.mkdir()
    (out / "samples").write_text("my notes")
    outcome = tinygen("train", "toy", *TOY, "--out", out)
    assert outcome.status == 2
    assert f"{out / 'samples'} is a file, where a run draws its epoch pictures into a folder of that name" in \
        outcome.one_line_error
    assert sorted(os.listdir(out)) == ["samples"] and snapshot(toy_run) == before


def test_the_write_probe_never_touches_a_users_file(tmp_path):
    """Probe: a file of the user's named `.write-test` in --out was overwritten and deleted by the writability
    check."""
    (tmp_path / ".write-test").write_text("mine")
    train(TrainConfig("toy", epochs=1, subset=256, out=str(tmp_path), progress=False), log=lambda line: None)
    assert (tmp_path / ".write-test").read_text() == "mine"
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".write-test-")]


def test_a_leading_tilde_in_a_path_option_is_the_home_directory(tinygen, tmp_path, monkeypatch):
    """Probe: the shell leaves `--out=~/runs/toy` as it is, so the run went into a folder named `~` in the current
    directory and was not in ~/runs/toy, where the user looked for it."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    assert tinygen("train", "toy", *TOY, "--out=~/runs/toy").status == 0
    assert (home / "runs" / "toy" / "checkpoint.npz").exists() and os.listdir(work) == []
    assert tinygen("sample", "~/runs/toy/checkpoint.npz", "--out=~/grid.png").status == 0
    assert (home / "grid.png").exists() and os.listdir(work) == []


def test_a_pathlib_out_is_a_directory_name(tmp_path):
    """Probe: `TrainConfig("toy", out=Path("runs/toy"))` was refused: "out must be a directory name, got
    PosixPath(...)"."""
    config = TrainConfig("toy", out=tmp_path / "run", epochs=1, subset=64, batch_size=8, progress=False)
    assert config.out == str(tmp_path / "run")
    train(config, log=lambda line: None)
    assert load_checkpoint(tmp_path / "run" / "checkpoint.npz")["config"]["out"] == str(tmp_path / "run")


def test_sampling_a_run_set_aside_by_a_killed_overwrite_says_where_it_is(tinygen, toy_run, tmp_path):
    """Probe: an --overwrite run killed in its first epoch (the OOM killer) leaves the previous run in the hidden
    .previous-run/; `tinygen sample DIR/checkpoint.npz` said only "no checkpoint at ...", as if the run were lost."""
    before = snapshot(toy_run)
    RunDirectory(toy_run).set_aside_previous()
    outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / "grid.png")
    assert outcome.status == 2
    assert outcome.one_line_error.endswith(
        f"no checkpoint at {toy_run / 'checkpoint.npz'}: an --overwrite run stopped before its first checkpoint, and "
        f"the previous run is set aside in {toy_run / PREVIOUS}; `tinygen train MODEL --out {toy_run}` puts it back "
        "(and stops there, before any work)")
    assert tinygen("train", "toy", *TOY, "--out", toy_run).status == 2
    assert snapshot(toy_run) == before


def test_a_file_system_without_locks_still_takes_a_run(tinygen, tmp_path, monkeypatch):
    """Probe: on NFS without lockd, flock fails with ENOLCK, and every run there stopped with "cannot write to the
    output directory ...: No locks available" although the directory was writable. It trains unlocked, as on
    Windows."""
    import errno

    from tinygen.training import run_directory

    def flock(descriptor, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(run_directory.fcntl, "flock", flock)
    assert tinygen("train", "toy", *TOY, "--out", tmp_path / "run").status == 0
    assert (tmp_path / "run" / "checkpoint.npz").exists() and not (tmp_path / "run" / LOCK_NAME).exists()
