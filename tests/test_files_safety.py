"""Files from elsewhere and saves that die: loading never unpickles (a pickle that would run code runs nothing),
a save killed mid-write (SIGKILL) leaves the previous checkpoint loadable and no partial target, and its leftover
temporary file is cleaned by a later save; corrupt, truncated and wrong-model files give clear errors from every
entry point (tinygen.load, Module.load_state_dict, the training resume, ``tinygen sample``); and names found in a
file never become paths that are written. (Round trips and the basic refusals are in test_serialization.py.)"""
import json
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tinygen
from tinygen import files, nn, optim
from tinygen.cli import main
from tinygen.serialization import CheckpointError, load, save
from tinygen.training import TrainConfig, build_recipe, load_checkpoint, train


class WritesAFileWhenUnpickled:
    """Unpickling this calls ``open(marker, "w")``: proof that a loader unpickled, without running anything worse."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_archive(path, structure=None, **arrays):
    """An .npz written with NumPy directly, with ``structure`` (a dict) as the tinygen structure entry."""
    if structure is not None:
        arrays["tinygen_structure"] = np.array(json.dumps(structure))
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def evil_array(marker):
    return np.array([WritesAFileWhenUnpickled(marker)], dtype=object)


# --- never unpickle -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["structure", "referenced_tensor", "unreferenced_entry"])
def test_no_loader_ever_unpickles(tmp_path, where):
    marker = tmp_path / "unpickled"
    path = tmp_path / "evil.npz"
    structure = {"format": "tinygen-checkpoint", "version": 1, "root": {"dict": [["w", {"tensor": "tensor_0"}]]}}
    if where == "structure":
        write_archive(path, tinygen_structure=evil_array(str(marker)))
    elif where == "referenced_tensor":
        write_archive(path, structure, tensor_0=evil_array(str(marker)))
    else:
        write_archive(path, structure, tensor_0=np.zeros(2), payload=evil_array(str(marker)))
    model = nn.Linear(2, 1)
    attempts = [lambda: load(path), lambda: load_checkpoint(path), lambda: model.load_state_dict(load(path))]
    for attempt in attempts:
        try:
            attempt()
        except (CheckpointError, RuntimeError, TypeError):
            pass
    assert main(["sample", str(path), "--out", str(tmp_path / "grid.png")]) == 2
    assert not marker.exists(), "a pickle was loaded"
    if where != "unreferenced_entry":
        with pytest.raises(CheckpointError, match="pickled Python objects, which tinygen refuses to load"):
            load(path)


def test_a_state_dict_file_written_by_pickle_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as file:
        pickle.dump({"weight": WritesAFileWhenUnpickled(str(tmp_path / "unpickled"))}, file)
    with pytest.raises(CheckpointError, match="not a whole .npz \\(zip\\) archive"):
        load(path)
    assert not (tmp_path / "unpickled").exists()


# --- a save killed midway ---------------------------------------------------------------------------------------------

CHILD_SAVES_THEN_DIES_MIDWAY = """
import io, sys, time
import numpy
import tinygen
from tinygen.serialization import save

path = sys.argv[1]
save({"epoch": 1, "weights": tinygen.ones(512, 512)}, path)   # 1 MB, complete
original_savez = numpy.savez

def savez_that_stalls_halfway(file, **arrays):
    buffer = io.BytesIO()
    original_savez(buffer, **arrays)
    data = buffer.getvalue()
    file.write(data[: len(data) // 2])
    file.flush()
    print("halfway", flush=True)
    time.sleep(600)   # killed here

numpy.savez = savez_that_stalls_halfway
save({"epoch": 2, "weights": tinygen.zeros(512, 512)}, path)
"""

CHILD_SAVES_IN_A_LOOP = """
import sys
import tinygen
from tinygen.serialization import save

path, epoch = sys.argv[1], 0
weights = tinygen.randn(1024, 1024)   # 4 MB per save
while True:
    epoch += 1
    save({"epoch": epoch, "weights": weights * float(epoch)}, path)
    print(epoch, flush=True)
"""


def run_child(script, path):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True,
                            env=environment)


def leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_a_save_killed_midway_leaves_the_previous_checkpoint_intact(tmp_path):
    path = tmp_path / "checkpoint.npz"
    child = run_child(CHILD_SAVES_THEN_DIES_MIDWAY, path)
    try:
        assert child.stdout.readline().strip() == "halfway"
        (leftover,) = leftovers(tmp_path)
        assert os.path.getsize(tmp_path / leftover) > 0  # the half-written new version
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    checkpoint = load(path)
    assert checkpoint["epoch"] == 1 and checkpoint["weights"].shape == (512, 512)
    assert (checkpoint["weights"].numpy() == 1).all()
    assert sorted(os.listdir(tmp_path)) == sorted(["checkpoint.npz", leftover])  # no partial target anywhere


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
@pytest.mark.parametrize("saves_before_the_kill", [1, 3])
def test_a_run_killed_at_any_moment_of_its_saves_leaves_a_loadable_checkpoint(tmp_path, saves_before_the_kill):
    path = tmp_path / "checkpoint.npz"
    child = run_child(CHILD_SAVES_IN_A_LOOP, path)
    try:
        for _ in range(saves_before_the_kill):
            completed = int(child.stdout.readline())
        time.sleep(0.013 * saves_before_the_kill)  # somewhere inside a later save, most likely
    finally:
        child.kill()
        child.wait()
    checkpoint = load(path)
    assert checkpoint["epoch"] >= completed
    assert os.listdir(tmp_path) == ["checkpoint.npz"] or len(leftovers(tmp_path)) == 1


def test_a_later_save_removes_only_stale_leftovers(tmp_path):
    path = tmp_path / "checkpoint.npz"
    save({"epoch": 1}, path)
    fresh, stale = tmp_path / ".checkpoint.npz.abcd1234.tmp", tmp_path / ".checkpoint.npz.wxyz_789.tmp"
    other = tmp_path / ".other.npz.abcd1234.tmp"
    for leftover in (fresh, stale, other):
        leftover.write_bytes(b"half a save")
    long_ago = time.time() - files.STALE_AFTER - 60
    for old in (stale, other):
        os.utime(old, (long_ago, long_ago))
    save({"epoch": 2}, path)
    # the stale leftover of this target goes; a fresh one may be another save in progress; other targets' stay
    assert sorted(os.listdir(tmp_path)) == sorted(["checkpoint.npz", fresh.name, other.name])
    assert load(path)["epoch"] == 2


# --- corrupt, truncated and wrong-model files: a clear error from every entry point ---------------------------------

def small_run(directory, model="toy"):
    train(TrainConfig(model=model, epochs=1, subset=256, eval_size=200, out=str(directory), progress=False),
          log=lambda line: None)
    return directory / "checkpoint.npz"


@pytest.fixture(scope="module")
def toy_checkpoint(tmp_path_factory):
    return small_run(tmp_path_factory.mktemp("toy"))


def rewritten(checkpoint_path, target, change):
    """A copy of the checkpoint at ``target`` with ``change(contents)`` applied."""
    contents = load(checkpoint_path)
    change(contents)
    save(contents, target)
    return target


WRONG_CHECKPOINTS = {
    "garbage": (lambda source, path: path.write_bytes(b"\x00garbage"), "not a whole .npz \\(zip\\) archive"),
    "truncated": (lambda source, path: path.write_bytes(source.read_bytes()[:-200]),
                  "not a readable tinygen checkpoint"),
    "a_state_dict": (lambda source, path: save(nn.Linear(2, 2).state_dict(), path), "not a training checkpoint"),
    "no_state": (lambda source, path: rewritten(source, path, lambda c: c.pop("state")),
                 "holds a dict under 'state', this one holds nothing"),
    "config_not_a_dict": (lambda source, path: rewritten(source, path, lambda c: c.update(config=[1, 2])),
                          "holds a dict under 'config', this one holds a list"),
    "unknown_model": (lambda source, path: rewritten(source, path, lambda c: c.update(model="stylegan")),
                      "unknown model 'stylegan'"),
    "bad_setting": (lambda source, path: rewritten(source, path, lambda c: c["config"].update(latent_dim="2")),
                    "latent_dim must be a positive integer, got '2'"),
    "another_familys_state": (lambda source, path: rewritten(source, path, lambda c: c.update(
        state={"model.encoder": {}, "optimizer.vae": {}})), "state has no 'model.generator'"),
    "nan_weights": (lambda source, path: rewritten(source, path, lambda c: c["state"]["model.generator"].__setitem__(
        "net.0.bias", c["state"]["model.generator"]["net.0.bias"] * float("nan"))),
        "the checkpoint's model.generator/net.0.bias holds nan or inf: tinygen saves only finite states"),
    "a_part_not_a_dict": (lambda source, path: rewritten(source, path, lambda c: c["state"].update(
        {"model.generator": 3})), "the checkpoint's 'model.generator' should hold a state dict, not int"),
    "wrong_shapes": (lambda source, path: rewritten(source, path, lambda c: c["config"].update(latent_dim=3)),
                     "ToyGenerator failed: shape mismatches: net.0.weight \\(Linear\\): "  # one line from the CLI
                     "the checkpoint has shape \\(128, 2\\), this model has \\(128, 3\\)"),
    "optimizer_state_damaged": (lambda source, path: rewritten(source, path, lambda c: c["state"].update(
        {"optimizer.generator": {"state": {}}})), "expected a dict with 'state' \\(a dict\\) and 'param_groups'"),
}


@pytest.mark.parametrize("kind", sorted(WRONG_CHECKPOINTS))
def test_tinygen_sample_gives_a_clear_message_for_any_wrong_checkpoint(kind, toy_checkpoint, tmp_path, capsys):
    make, message = WRONG_CHECKPOINTS[kind]
    path = tmp_path / "checkpoint.npz"
    make(toy_checkpoint, path)
    assert main(["sample", str(path), "--out", str(tmp_path / "grid.png")]) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and error.startswith("tinygen sample: error: ")
    assert str(path) in error or "state" in error or "shape" in error or "must be" in error
    assert __import__("re").search(message, error), error
    assert not (tmp_path / "grid.png").exists()


@pytest.mark.parametrize("kind", ["garbage", "truncated", "a_state_dict", "no_state", "another_familys_state",
                                  "optimizer_state_damaged", "nan_weights"])
def test_resuming_from_a_wrong_checkpoint_is_a_clear_error_and_leaves_it_alone(kind, toy_checkpoint, tmp_path):
    make, message = WRONG_CHECKPOINTS[kind]
    path = tmp_path / "checkpoint.npz"
    make(toy_checkpoint, path)
    before = path.read_bytes()
    with pytest.raises((CheckpointError, RuntimeError, ValueError), match=message):
        train(TrainConfig(model="toy", epochs=2, subset=256, eval_size=200, out=str(tmp_path), resume=True,
                          progress=False), log=lambda line: None)
    assert path.read_bytes() == before


def test_resuming_with_other_sizes_names_the_setting_that_differs(toy_checkpoint, tmp_path):
    (tmp_path / "checkpoint.npz").write_bytes(toy_checkpoint.read_bytes())
    with pytest.raises(ValueError, match=r"settings differ from the checkpoint's \(latent_dim 3 here, 2 in the checkpoint\)"):
        train(TrainConfig(model="toy", latent_dim=3, epochs=2, subset=256, eval_size=200, out=str(tmp_path),
                          resume=True, progress=False), log=lambda line: None)


def test_a_checkpoint_of_other_sizes_names_the_layer_that_differs(toy_checkpoint):
    """Past the settings check (e.g. a hand-edited config), loading the weights still names the layer."""
    state = load_checkpoint(toy_checkpoint)["state"]
    recipe = build_recipe(TrainConfig(model="toy", latent_dim=3, progress=False))
    with pytest.raises(RuntimeError, match=r"ToyGenerator failed:\n  shape mismatches:\n    net.0.weight \(Linear\)"):
        recipe.load_state_dict(state)


def test_loading_another_models_state_dict_names_every_layer_that_differs(tmp_path):
    save(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)).state_dict(), tmp_path / "mlp.npz")
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 1), nn.BatchNorm1d(1))
    with pytest.raises(RuntimeError, match=r"(?s)load_state_dict into Sequential failed:.*"
                                           r"0.weight \(Linear\): the checkpoint has shape \(3, 4\), "
                                           r"this model has \(5, 4\)"
                                           r".*missing keys: 3.weight, 3.bias, 3.running_mean"):
        model.load_state_dict(load(tmp_path / "mlp.npz"))
    with pytest.raises(TypeError, match="expected a dict of tensors .* got list"):
        model.load_state_dict([1, 2])
    checkpoint = {"model": model.state_dict(), "epoch": 3}
    with pytest.raises(RuntimeError, match="unexpected keys: model, epoch"):
        model.load_state_dict(checkpoint)  # the whole checkpoint instead of its "model" entry


def test_an_optimizer_state_of_another_model_is_a_clear_error():
    small = optim.Adam(nn.Linear(2, 2).parameters())
    large = optim.Adam(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)).parameters())
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the saved state but 4 here"):
        large.load_state_dict(small.state_dict())
    with pytest.raises(ValueError, match="Adam.load_state_dict: expected a dict with 'state'"):
        small.load_state_dict({"param_groups": []})


# --- names found in a file never become paths that are written ------------------------------------------------------

def everything_under(directory):
    return sorted(os.path.relpath(os.path.join(root, name), directory)
                  for root, _, names in os.walk(directory) for name in names)


@pytest.mark.parametrize("evil_out", ["../../evil", "ABSOLUTE"])
def test_a_checkpoints_output_directory_is_never_written(evil_out, toy_checkpoint, tmp_path, monkeypatch):
    """The config saved in a checkpoint names an output directory; sampling and resuming must write only where the
    command line says (the audit found no write path taken from file contents; this keeps it so)."""
    sandbox = tmp_path / "sandbox"
    work = sandbox / "a" / "b"
    work.mkdir(parents=True)
    absolute = tmp_path / "absolute_evil"
    evil = str(absolute) if evil_out == "ABSOLUTE" else evil_out
    history = [{"epoch": 1, "../../history_key": 1.0}]
    path = rewritten(toy_checkpoint, work / "checkpoint.npz",
                     lambda c: (c["config"].update(out=evil), c.update(history=history)))
    monkeypatch.chdir(work)

    assert main(["sample", "checkpoint.npz", "--out", "grid.png"]) == 0
    train(TrainConfig(model="toy", epochs=2, subset=256, eval_size=200, out=".", resume=True, progress=False),
          log=lambda line: None)
    assert load(path)["config"]["out"] == "."  # the resumed run's own settings, not the file's

    written = everything_under(sandbox)
    assert all(name.startswith(os.path.join("a", "b") + os.sep) for name in written), written
    assert not absolute.exists() and not (tmp_path / "evil").exists()
