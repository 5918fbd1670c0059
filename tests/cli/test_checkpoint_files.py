"""Checkpoint files from elsewhere, and writes that fail (probes: a FIFO as the checkpoint hung `sample` and `--resume`
forever; a 1.4 MB .npz that inflates to 1 GiB of zeros took `sample` to 1.1 GB before the shape check; junk starting
with "PK" was called "pickled Python objects"; `epochs_done = -3` did not say which value; a malformed history was an
AttributeError in plot_history; a config asking for a huge latent size was a MemoryError traceback; a full disk named
no file; after a failed save metrics.json could be one epoch ahead of the checkpoint; saving a dict that contains
itself was a bare RecursionError)."""
import errno
import io
import json
import os
import signal
import tracemalloc
import zipfile

import numpy as np
import pytest

from tinygen import files
from tinygen.serialization import CheckpointError, load, save
from tinygen.training import load_checkpoint

from .conftest import snapshot


@pytest.fixture
def deadline():
    """Fail (instead of hanging the suite) if the test takes more than 20 seconds."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def too_slow(signum, frame):
        raise TimeoutError("still running after 20 s: a read blocked")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def rewritten(source, target, change):
    contents = load(source)
    change(contents)
    save(contents, target)
    return target


# --- not a regular file -------------------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_a_fifo_as_the_checkpoint_is_refused_at_once(tinygen, tmp_path, deadline):
    fifo = tmp_path / "checkpoint.npz"
    os.mkfifo(fifo)
    outcome = tinygen("sample", fifo)
    assert outcome.status == 2
    assert f"'{fifo}' is a FIFO (named pipe); a checkpoint must be a regular file" in outcome.one_line_error
    outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "256", "--out", tmp_path, "--resume", "--no-progress")
    assert outcome.status == 2 and "is a FIFO (named pipe)" in outcome.one_line_error


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_or_a_directory_as_the_checkpoint_is_refused_at_once(tinygen, tmp_path, deadline):
    assert "'/dev/zero' is a character device" in tinygen("sample", "/dev/zero", "--out", tmp_path / "a.png").err
    assert "is a directory; a checkpoint must be a regular file" in tinygen("sample", tmp_path).one_line_error


# --- what an archive may inflate to -----------------------------------------------------------------------------------

def npy_header(shape, dtype="<f4"):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
    return header.getvalue()


STRUCTURE = {"format": "tinygen-checkpoint", "version": 1, "root": {"tensor": "tensor_0"}}


def write_entry(archive, name, data):
    with archive.open(name, "w", force_zip64=True) as entry:
        entry.write(data)


@pytest.mark.slow
def test_an_archive_that_inflates_to_a_gibibyte_is_refused_from_its_headers(tinygen, tmp_path):
    """The probe's bomb: 1 GiB of float32 zeros, deflated to a few MB. Refused before a byte is inflated."""
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("tensor_0.npy", "w", force_zip64=True) as entry:
            entry.write(npy_header((2**28,)))
            zeros = bytes(2**24)
            for _ in range(64):
                entry.write(zeros)
        archive.writestr("tinygen_structure.npy", b"")
    assert os.path.getsize(bomb) < 8 * 2**20
    tracemalloc.start()
    try:
        outcome = tinygen("sample", bomb, "--out", tmp_path / "grid.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.status == 2
    assert "its entries would inflate to 1,073,741,952 bytes from" in outcome.one_line_error
    assert "tinygen.load(path, max_bytes=...) reads a larger one you trust" in outcome.err
    assert peak < 50 * 2**20, f"reading the headers took {peak / 2**20:.0f} MB"


def test_an_array_whose_header_claims_more_data_than_its_entry_holds_is_refused(tmp_path):
    liar = tmp_path / "liar.npz"
    with zipfile.ZipFile(liar, "w") as archive:
        write_entry(archive, "tensor_0.npy", npy_header((2**30,)) + bytes(16))
        buffer = io.BytesIO()
        np.save(buffer, np.array(json.dumps(STRUCTURE)))
        write_entry(archive, "tinygen_structure.npy", buffer.getvalue())
    with pytest.raises(CheckpointError, match=r"its entry 'tensor_0.npy' declares 4,294,967,296 bytes of float32 data "
                                              r"but holds 16"):
        load(liar)


def test_the_size_limit_can_be_raised_for_a_file_one_trusts(tmp_path):
    path = tmp_path / "zeros.npz"
    save({"w": __import__("tinygen").zeros(10)}, path)
    with pytest.raises(CheckpointError, match="over the limit of 100"):
        load(path, max_bytes=100)
    assert load(path, max_bytes=10**6)["w"].shape == (10,)


def test_junk_that_starts_with_pk_is_not_called_pickled(tinygen, tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK this is not an archive at all" * 10)
    line = tinygen("sample", junk).one_line_error
    assert "it is not a whole .npz (zip) archive: cut short" in line and "pickle" not in line


# --- damaged contents ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(epochs_done=-3), "epochs_done is -3; a training checkpoint counts its finished epochs"),
    (lambda c: c.update(epochs_done=5), "epochs_done is 5 but the history holds 1 epochs"),
    (lambda c: c.update(history=["loss"]), "history entry 0 is a str, not a dict of metric names to values"),
])
@pytest.mark.parametrize("command", ["sample", "resume"])
def test_a_damaged_progress_record_names_the_value(change, message, command, tinygen, toy_run):
    checkpoint = rewritten(toy_run / "checkpoint.npz", toy_run / "checkpoint.npz", change)
    before = checkpoint.read_bytes()
    if command == "sample":
        outcome = tinygen("sample", checkpoint, "--out", toy_run / "grid.png")
    else:
        outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "256", "--out", toy_run, "--resume",
                          "--no-progress")
    assert outcome.status == 2 and message in outcome.one_line_error
    assert checkpoint.read_bytes() == before


def test_a_checkpoint_whose_config_asks_for_a_huge_latent_size_names_it(tinygen, toy_run):
    checkpoint = rewritten(toy_run / "checkpoint.npz", toy_run / "huge.npz",
                           lambda c: c["config"].update(latent_dim=10**15))
    outcome = tinygen("sample", checkpoint, "--out", toy_run / "grid.png")
    assert outcome.status == 2
    assert "not enough memory for the checkpoint's latent_dim 1000000000000000: Unable to allocate" in \
        outcome.one_line_error


def test_saving_a_dict_that_contains_itself_is_a_clear_error(tmp_path):
    looped = {"epoch": 1}
    looped["self"] = looped
    with pytest.raises(ValueError, match=r"save: the dict at the top level\['self'\] contains itself"):
        save(looped, tmp_path / "x.npz")
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        save(deep, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# --- writes that fail ---------------------------------------------------------------------------------------------

def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_names_the_file_and_keeps_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    save({"epoch": 1}, path)
    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(files.WriteError) as raised:
        save({"epoch": 2}, path)
    assert raised.value.errno == errno.ENOSPC
    assert str(raised.value) == f"cannot write '{path}': No space left on device (it was left as it was)"
    monkeypatch.undo()
    assert load(path)["epoch"] == 1 and os.listdir(tmp_path) == ["checkpoint.npz"]
    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(files.WriteError, match=r"No space left on device \(nothing was written\)$"):
        save({"epoch": 2}, tmp_path / "new.npz")  # probe: a new file was said to be "left as it was"
    assert os.listdir(tmp_path) == ["checkpoint.npz"]


def test_a_failed_checkpoint_save_leaves_the_metrics_in_step_with_the_checkpoint(tinygen, tmp_path, monkeypatch):
    """The save of epoch 2's checkpoint fails (disk full): the command names the file, metrics.json still ends at
    epoch 1 like the checkpoint, and a resume continues from there."""
    from tinygen.training import loop

    saved = []
    original = loop.save_checkpoint

    def fails_the_second_time(path, *args):
        saved.append(path)
        if len(saved) == 2:
            files.atomic_write(path, full_disk)  # as a full disk would make the save fail
        original(path, *args)

    monkeypatch.setattr(loop, "save_checkpoint", fails_the_second_time)
    out = tmp_path / "run"
    outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "256", "--out", out, "--no-progress")
    assert outcome.status == 2
    assert f"cannot write '{out / 'checkpoint.npz'}': No space left on device" in outcome.one_line_error
    assert load_checkpoint(out / "checkpoint.npz")["epochs_done"] == 1
    assert [entry["epoch"] for entry in json.loads((out / "metrics.json").read_text())] == [1]
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]
    monkeypatch.undo()
    outcome = tinygen("train", "toy", "--epochs", "2", "--subset", "256", "--out", out, "--no-progress", "--resume")
    assert outcome.status == 0, outcome
    assert [entry["epoch"] for entry in json.loads((out / "metrics.json").read_text())] == [1, 2]


def test_a_temporary_file_goes_beside_its_target_with_a_short_name(tmp_path, monkeypatch):
    made = []
    original = files.tempfile.mkstemp

    def records(**options):
        made.append(options)
        return original(**options)

    monkeypatch.setattr(files.tempfile, "mkstemp", records)
    name = "c" * 246 + ".npz"
    (tmp_path / "sub").mkdir()
    save({"epoch": 1}, tmp_path / "sub" / name)
    (options,) = made
    assert options["dir"] == str(tmp_path / "sub") and len(options["prefix"]) <= 42
    assert load(tmp_path / "sub" / name)["epoch"] == 1 and os.listdir(tmp_path / "sub") == [name]


def test_sample_reads_the_checkpoint_of_a_run_in_progress(tinygen, toy_run, tmp_path):
    """Readers take no lock: a checkpoint is replaced by a rename, so `tinygen sample` may read a run in progress."""
    from tinygen.training.run_directory import RunDirectory

    before = snapshot(toy_run)
    with RunDirectory(toy_run):  # as a training process holds it
        outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / "grid.png")
    assert outcome.status == 0, outcome
    assert snapshot(toy_run) == before


def test_a_truncated_checkpoint_is_called_cut_short(tinygen, toy_run, tmp_path):
    """Probe: a checkpoint cut 10 bytes short (a copy interrupted by a full disk) was said to be "not a .npz"."""
    whole = (toy_run / "checkpoint.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[:-10])
    assert "it is not a whole .npz (zip) archive: cut short" in tinygen("sample", tmp_path / "cut.npz").one_line_error
