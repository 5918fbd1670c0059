"""The example scripts run top to bottom (a couple of steps each, so the suite stays quick)."""
import os
import pathlib
import subprocess
import sys

import pytest

from tinygen.cli import main

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *arguments):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, arguments)], capture_output=True,
                            text=True, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mlp_gan.py", "dcgan.py", "wgan_gp.py", "vae.py"])
def test_training_examples(name, tmp_path):
    printed = run_example(name, "--epochs", 1, "--steps", 2, "--out", tmp_path)
    assert "epoch 1" in printed
    assert any(path.suffix == ".png" for path in tmp_path.iterdir())


@pytest.mark.slow
def test_latent_walk_example(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "dcgan", "--epochs", "1", "--subset", "64", "--out", str(run), "--no-progress"]) == 0
    printed = run_example("latent_walk.py", run / "checkpoint.npz", "--out", tmp_path / "walk.gif", "--frames", 4)
    assert "wrote" in printed and (tmp_path / "walk.gif").exists()
