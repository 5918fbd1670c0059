"""save / load: round trips of nested structures and dtypes, map_location, atomic writes, and clear errors for
corrupt, truncated, foreign and pickled files."""
import json
import os
from collections import OrderedDict

import numpy as np
import pytest

import tinygen
from tinygen import nn, optim
from tinygen.serialization import CheckpointError, load, save

from helpers import host


def test_round_trip_of_a_nested_structure(tmp_path, device):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    model(tinygen.randn(5, 3)).sum().backward()
    optimizer.step()
    checkpoint = {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3, "loss": 0.125,
        "best": float("inf"), "name": "dcgan", "done": False, "note": None, "sizes": (64, [1, 2]),
        "history": [{"step": 1, "values": tinygen.arange(3)}], "empty": {}, "nothing": [],
    }
    save(checkpoint, tmp_path / "ckpt.npz")
    loaded = load(tmp_path / "ckpt.npz")
    assert list(loaded) == list(checkpoint)
    assert isinstance(loaded["model"], OrderedDict) and list(loaded["model"]) == list(checkpoint["model"])
    for key, value in checkpoint["model"].items():
        assert loaded["model"][key].dtype == value.dtype and loaded["model"][key].device == device
        assert (host(loaded["model"][key]) == host(value)).all()
    state = loaded["optimizer"]["state"]
    assert list(state) == [0, 1, 2, 3] and state[0]["step"] == 1 and isinstance(state[0]["step"], int)
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert (loaded["epoch"], loaded["loss"], loaded["best"], loaded["name"], loaded["done"], loaded["note"]) == \
        (3, 0.125, float("inf"), "dcgan", False, None)
    assert loaded["sizes"] == (64, [1, 2]) and loaded["empty"] == {} and loaded["nothing"] == []
    assert host(loaded["history"][0]["values"]).tolist() == [0, 1, 2]


def test_dtypes_and_shapes_are_preserved(tmp_path):
    tensors = {
        "f16": tinygen.ones(2, dtype=tinygen.float16), "f32": tinygen.randn(2, 3), "f64": tinygen.randn(4, dtype=tinygen.float64),
        "i32": tinygen.arange(3, dtype=tinygen.int32), "i64": tinygen.tensor(7), "u8": tinygen.zeros(2, 2, dtype=tinygen.uint8),
        "bool": tinygen.tensor([True, False]), "scalar": tinygen.tensor(2.5), "empty": tinygen.zeros(0, 3),
        "strided": tinygen.randn(4, 6)[:, ::2],
    }
    save(tensors, tmp_path / "tensors.npz")
    loaded = load(tmp_path / "tensors.npz")
    for key, value in tensors.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape, key
        assert (host(loaded[key]) == host(value)).all(), key
        assert not loaded[key].requires_grad


def test_parameters_load_as_tensors_that_require_grad_onto_map_location(tmp_path):
    weight = nn.Parameter(tinygen.randn(3))
    save({"weight": weight}, tmp_path / "p.npz")
    for location in ("cpu", "strict"):
        loaded = load(tmp_path / "p.npz", map_location=location)["weight"]
        assert loaded.device == location and type(loaded) is tinygen.Tensor and loaded.requires_grad
        assert (host(loaded) == host(weight.detach())).all()


def test_requires_grad_is_kept_as_pytorch_keeps_it(tmp_path):
    leaf = tinygen.randn(3, dtype=tinygen.float64, requires_grad=True)
    save({"leaf": leaf, "computed": leaf * 2, "plain": tinygen.randn(2), "labels": tinygen.arange(3)},
         tmp_path / "t.npz")
    loaded = load(tmp_path / "t.npz")
    assert loaded["leaf"].requires_grad and loaded["computed"].requires_grad
    assert loaded["computed"].grad_fn is None  # a leaf of its own, as after torch.load
    assert not loaded["plain"].requires_grad and not loaded["labels"].requires_grad
    loaded["computed"].sum().backward()
    assert host(loaded["computed"].grad).tolist() == [1.0, 1.0, 1.0]
    assert not any(value.requires_grad for value in nn.Linear(2, 2).state_dict().values())


def test_checkpoint_is_a_plain_npz_without_pickles(tmp_path):
    save({"w": tinygen.ones(2), "epoch": 1}, tmp_path / "ckpt.npz")
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["tensor_0", "tinygen_structure"]
        structure = json.loads(str(archive["tinygen_structure"]))
    assert structure["format"] == "tinygen-checkpoint" and structure["version"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind


def test_unsupported_values_are_refused_before_writing(tmp_path):
    target = tmp_path / "ckpt.npz"
    with pytest.raises(TypeError, match=r"save: cannot store a numpy.ndarray at the top level\['x'\]\[0\]"):
        save({"x": [np.zeros(2)]}, target)
    with pytest.raises(TypeError, match="dict keys must be strings or integers, got 1.5"):
        save({1.5: 1}, target)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({}, tmp_path / "missing" / "ckpt.npz")
    assert not target.exists() and os.listdir(tmp_path) == []


def test_a_failure_mid_write_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    target = tmp_path / "ckpt.npz"
    save({"epoch": 1, "w": tinygen.ones(3)}, target)
    original_savez = np.savez

    def savez_that_dies(file, **arrays):
        original_savez(file, **arrays)
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", savez_that_dies)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 2, "w": tinygen.zeros(3)}, target)
    monkeypatch.undo()
    assert load(target)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # the temporary file was removed


def write_npy(path, array):
    with open(path, "wb") as file:  # np.save(path) would add a .npy suffix
        np.save(file, array)


def structure_entry(text):
    return np.array(text)


@pytest.mark.parametrize("write, reason", [
    (lambda path: path.write_bytes(b"definitely not a checkpoint"), "it is not a whole .npz \\(zip\\) archive"),
    (lambda path: path.write_bytes(b""), "it is not a whole .npz \\(zip\\) archive"),
    (lambda path: write_npy(path, np.zeros(3)), "it is not a whole .npz \\(zip\\) archive"),
    (lambda path: np.savez(path, weights=np.zeros(3)), "it has no 'tinygen_structure' entry"),
    (lambda path: np.savez(path, tinygen_structure=np.array(["x"], dtype=object)), "it holds pickled Python objects"),
    (lambda path: np.savez(path, tinygen_structure=structure_entry('{"format": "other", "version": 1}')),
     "its structure entry names format 'other' version 1"),
    (lambda path: np.savez(path, tinygen_structure=structure_entry("{not json")), "JSONDecodeError"),
])
def test_foreign_files_give_a_clear_error_naming_the_path(tmp_path, write, reason):
    path = tmp_path / "bad.npz"
    write(path)
    with pytest.raises(CheckpointError, match=f"load: '{path}' is not a readable tinygen checkpoint: .*{reason}"):
        load(path)


def test_a_pickled_tensor_entry_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    structure = {"format": "tinygen-checkpoint", "version": 1, "root": {"tensor": "tensor_0"}}
    np.savez(path, tinygen_structure=structure_entry(json.dumps(structure)), tensor_0=np.array([{"payload": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled Python objects, which tinygen refuses to load"):
        load(path)


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9, 0.99])
def test_truncated_and_corrupted_files_give_a_clear_error(tmp_path, keep):
    path = tmp_path / "ckpt.npz"
    save({"w": tinygen.randn(64, 64), "epoch": 1}, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=f"load: '{path}' is not a readable tinygen checkpoint"):
        load(path)
    corrupted = bytearray(data)
    corrupted[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64  # inside the tensor entry or its header
    path.write_bytes(bytes(corrupted))
    try:
        loaded = load(path)
    except CheckpointError:
        return
    assert loaded["epoch"] == 1  # damage confined to raw float bytes can only change values, not the structure


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="load: no checkpoint at"):
        load(tmp_path / "nothing.npz")
