"""The ``tinygen`` command end to end on tiny runs: train writes every picture, sample reads the checkpoint,
info reports the backends, and each kind of bad input is one clear line (exit code 2), never a traceback."""
import os
import subprocess
import sys

import pytest
from PIL import Image

import tinygen
from tinygen.cli import main


def run(*arguments):
    return main([str(argument) for argument in arguments])


@pytest.mark.slow
def test_train_dcgan_then_sample(tmp_path, capsys):
    out = tmp_path / "run"
    assert run("train", "dcgan", "--epochs", 2, "--subset", 64, "--batch-size", 32, "--out", out, "--no-progress") == 0
    for name in ("samples.png", "losses.png", "latent_walk.gif", "metrics.csv", "metrics.json", "checkpoint.npz",
                 "real.png", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert (out / name).exists(), name
    assert Image.open(out / "samples.png").size == (2 * (8 * 30 + 2), 2 * (8 * 30 + 2))
    gif = Image.open(out / "latent_walk.gif")
    assert gif.n_frames > 10
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    for column in ("epoch", "loss_d", "loss_g", "d_accuracy", "frechet_distance", "inception_score", "classes_covered"):
        assert column in header

    grid, walk = tmp_path / "grid.png", tmp_path / "walk.gif"
    assert run("sample", out / "checkpoint.npz", "--out", grid, "--gif", walk, "--n", 16) == 0
    assert Image.open(grid).size[0] > 0 and Image.open(walk).n_frames > 10
    assert "wrote" in capsys.readouterr().out


def test_train_toy_and_vae_with_a_two_dimensional_latent_space(tmp_path):
    assert run("train", "toy", "--epochs", 1, "--subset", 512, "--out", tmp_path / "toy", "--no-progress") == 0
    assert (tmp_path / "toy" / "samples.png").exists()
    assert run("train", "vae", "--epochs", 1, "--subset", 256, "--latent-dim", 2, "--out", tmp_path / "vae",
               "--no-progress") == 0
    assert (tmp_path / "vae" / "latent_space.png").exists() and (tmp_path / "vae" / "latent_walk.gif").exists()


def test_info(capsys):
    assert run("info") == 0
    printed = capsys.readouterr().out
    assert "tinygen" in printed and "default device" in printed and "cuda:" in printed
    assert f"cpu threads: {tinygen.get_num_threads()} (" in printed


@pytest.mark.parametrize("arguments, message", [
    (["train", "toy", "--batch-size", "0"], "batch_size must be a positive integer"),
    (["train", "toy", "--subset", "10", "--batch-size", "64"], "batch_size 64 is larger than the 10 training samples"),
    (["train", "toy", "--epochs", "-1"], "epochs must be a positive integer"),
    (["sample", "missing.npz"], "no checkpoint at missing.npz"),
])
def test_bad_input_is_one_clear_line(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(arguments + (["--out", str(tmp_path / "run")] if arguments[0] == "train" else [])) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_a_corrupt_checkpoint_is_one_clear_line(tmp_path, capsys):
    broken = tmp_path / "checkpoint.npz"
    broken.write_bytes(b"garbage")
    assert run("sample", broken) == 2
    assert "checkpoint.npz" in capsys.readouterr().err


def test_an_unknown_model_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        run("train", "gann")
    assert exit_.value.code == 2
    assert "invalid choice: 'gann'" in capsys.readouterr().err


def test_python_dash_m_tinygen_works():
    result = subprocess.run([sys.executable, "-m", "tinygen", "info"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.returncode == 0 and "default device" in result.stdout
