"""Saving under PyTorch's file names (.pth, .pt) keeps tinygen's safe format; a file PyTorch wrote is refused
with the line that converts it, and nothing in it is unpickled."""
import io
import pickle
import zipfile

import pytest

import tinygen
from tinygen import nn
from tinygen.serialization import CheckpointError

from helpers import assert_close


@pytest.mark.parametrize("name", ["netG.pth", "model.pt", "weights"])
def test_state_dict_round_trips_under_any_name(tmp_path, name):
    model = nn.Linear(3, 2)
    tinygen.save(model.state_dict(), tmp_path / name)
    assert (tmp_path / name).read_bytes()[:2] == b"PK" and [p.name for p in tmp_path.iterdir()] == [name]
    restored = nn.Linear(3, 2)
    restored.load_state_dict(tinygen.load(tmp_path / name))
    assert_close(restored.weight, model.weight)


def fake_pytorch_zip(path):
    """The layout torch.save writes: archive/data.pkl (a pickle), archive/version, archive/data/0 (raw bytes)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": "stand-in"}, protocol=2))
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/data/0", bytes(16))


def test_pytorch_zip_checkpoint_is_refused_with_the_conversion(tmp_path, monkeypatch):
    path = tmp_path / "netG.pth"
    fake_pytorch_zip(path)
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("load must never unpickle"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("load must never unpickle"))
    with pytest.raises(CheckpointError, match="written by PyTorch's torch.save") as error:
        tinygen.load(path)
    assert "weights_only=True" in str(error.value) and "tinygen.save" in str(error.value)


def test_legacy_pytorch_pickle_is_refused_too(tmp_path):
    """PyTorch's pre-zip format: pickles, the first of them its magic number 0x1950a86a20f9469cfc6c."""
    path = tmp_path / "old.pt"
    buffer = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, buffer, protocol=2)
    pickle.dump({"weight": 1}, buffer, protocol=2)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match="torch.save"):
        tinygen.load(path)


def test_any_other_pickle_is_not_blamed_on_pytorch(tmp_path):
    path = tmp_path / "other.pth"
    path.write_bytes(pickle.dumps({"weight": 1}, protocol=2))
    with pytest.raises(CheckpointError, match="not a whole .npz \\(zip\\) archive"):
        tinygen.load(path)


@pytest.mark.torch
def test_a_real_pytorch_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    for name, zipped in (("real.pth", True), ("legacy.pt", False)):
        torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / name, _use_new_zipfile_serialization=zipped)
        with pytest.raises(CheckpointError, match="written by PyTorch's torch.save"):
            tinygen.load(tmp_path / name)
