"""``tinygen sample``'s outputs never replace its input, and their format follows their names (probes: `sample CKPT
--out CKPT` or `--gif CKPT` overwrote the checkpoint with a picture, exit 0; `--out X --gif X` replaced one with the
other; `--out x.jpg` wrote PNG bytes; `--out DIR/` wrote its temporary file into the parent and then failed; a legal
250-character name failed because the temporary name was longer; `--n 1000000000000` was a MemoryError)."""
import os

import pytest
from PIL import Image

from .conftest import snapshot


@pytest.mark.parametrize("option", ["--out", "--gif"])
def test_sample_refuses_to_write_over_its_checkpoint(option, tinygen, toy_run, tmp_path):
    checkpoint = toy_run / "checkpoint.npz"
    before = snapshot(toy_run)
    link = tmp_path / "link.npz"
    link.symlink_to(checkpoint)
    for target in (checkpoint, toy_run / "samples" / ".." / "checkpoint.npz", link):
        outcome = tinygen("sample", checkpoint, option, target)
        assert outcome.status == 2
        assert f"{option} {target} is the checkpoint being read: writing there would destroy it" in \
            outcome.one_line_error
    assert snapshot(toy_run) == before


def test_sample_refuses_one_name_for_both_outputs(tinygen, toy_run, tmp_path):
    for first, second in [("x", "x"), ("walk.gif", "walk.gif"), ("x.png", os.path.join("sub", "..", "x.png"))]:
        outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / first, "--gif", tmp_path / second)
        assert outcome.status == 2 and "--out and --gif both name" in outcome.one_line_error
    assert os.listdir(tmp_path) == ["run"]


@pytest.mark.parametrize("name, format", [("grid.png", "PNG"), ("grid.jpg", "JPEG"), ("grid.JPEG", "JPEG")])
def test_the_format_follows_the_suffix(name, format, tinygen, toy_run, tmp_path):
    """Toy runs draw their samples as a scatter plot (matplotlib); the same suffixes work."""
    outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / name)
    assert outcome.status == 0, outcome
    assert Image.open(tmp_path / name).format == format


@pytest.mark.parametrize("option, name, message", [
    ("--out", "grid.bmp", "the format follows the file name's suffix, and its suffix '.bmp' is not one of .png, .jpg, "
                          ".jpeg"),
    ("--out", "grid", "and it has no suffix: use one of .png, .jpg, .jpeg"),
    ("--gif", "walk.png", "its suffix '.png' is not one of .gif"),
])
def test_an_unknown_suffix_is_a_clear_error_before_any_work(option, name, message, tinygen, toy_run, tmp_path):
    outcome = tinygen("sample", toy_run / "checkpoint.npz", option, tmp_path / name)
    assert outcome.status == 2 and message in outcome.one_line_error
    assert os.listdir(tmp_path) == ["run"]


@pytest.mark.parametrize("option", ["--out", "--gif"])
def test_a_directory_as_the_output_is_a_clear_error_and_writes_nothing(option, tinygen, toy_run, tmp_path):
    (tmp_path / "pictures").mkdir()
    for target in (f"{tmp_path / 'pictures'}{os.sep}", str(tmp_path / "pictures"), f"{tmp_path / 'new'}{os.sep}"):
        outcome = tinygen("sample", toy_run / "checkpoint.npz", option, target)
        assert outcome.status == 2 and "is a directory: name a file" in outcome.one_line_error
    assert sorted(os.listdir(tmp_path)) == ["pictures", "run"] and os.listdir(tmp_path / "pictures") == []


def test_a_missing_output_directory_is_named(tinygen, toy_run, tmp_path):
    outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / "no" / "such" / "grid.png")
    assert outcome.status == 2 and f"the directory {tmp_path / 'no' / 'such'} does not exist" in outcome.one_line_error


def test_a_legal_250_character_name_works_and_leaves_no_temporary_file(tinygen, toy_run, tmp_path):
    name = "g" * 246 + ".png"
    outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / name)
    assert outcome.status == 0, outcome
    assert sorted(os.listdir(tmp_path)) == sorted(["run", name])


@pytest.mark.parametrize("n, message", [("1000000000000", "--n must be at most 10000 (a grid of 100 x 100 pictures), "
                                                          "got 1000000000000"),
                                        ("0", "--n must be at least 1, got 0")])
def test_an_impossible_number_of_samples_is_one_line(n, message, tinygen, toy_run):
    outcome = tinygen("sample", toy_run / "checkpoint.npz", "--n", n)
    assert outcome.status == 2 and message in outcome.one_line_error


def test_a_latent_walk_of_a_toy_run_is_refused_before_anything_is_written(tinygen, toy_run, tmp_path):
    outcome = tinygen("sample", toy_run / "checkpoint.npz", "--out", tmp_path / "a.png", "--gif", tmp_path / "w.gif")
    assert outcome.status == 2 and "a latent walk is drawn for image models only" in outcome.one_line_error
    assert os.listdir(tmp_path) == ["run"]


@pytest.mark.parametrize("arguments, message", [
    (["--out", ""], "--out is empty: name a file, e.g. 'samples.png'"),
    (["--gif", ""], "--gif is empty: name a file, e.g. 'walk.gif'"),
    (["--seed", "-1"], "--seed must be a non-negative integer, got -1"),
])
def test_an_empty_name_and_a_negative_seed_are_named(arguments, message, tinygen, toy_run, tmp_path):
    """They said "--out '' is a directory" and "Generator: expected a non-negative integer seed"."""
    outcome = tinygen("sample", toy_run / "checkpoint.npz", *arguments)
    assert outcome.status == 2 and message in outcome.one_line_error
    assert os.listdir(tmp_path) == ["run"]


@pytest.mark.parametrize("option, name", [("--out", "samples.png"), ("--out", "losses.png"),
                                          ("--out", os.path.join("samples", "epoch_001.png")),
                                          ("--gif", "latent_walk.gif")])
def test_sample_refuses_to_replace_a_training_runs_pictures(option, name, tinygen, toy_run, tmp_path, monkeypatch):
    """Probe: `cd runs/dcgan && tinygen sample checkpoint.npz` replaced the run's samples.png (the default --out)
    with exit 0; --out losses.png, samples/epoch_001.png and --gif latent_walk.gif likewise."""
    (toy_run / "latent_walk.gif").write_bytes(b"a run's walk")  # toy runs draw none; a picture run does
    before = snapshot(toy_run)
    monkeypatch.chdir(toy_run)
    grid = ["--out", tmp_path / "grid.png"] if option == "--gif" else []
    arguments = ["sample", "checkpoint.npz", option, name] + grid
    outcome = tinygen(*arguments)
    assert outcome.status == 2
    assert (f"{option} {name} is one of the outputs of the training run in {toy_run}: writing there would replace "
            "it; choose another name, e.g." in outcome.one_line_error)
    assert snapshot(toy_run) == before


def test_sample_may_replace_its_own_earlier_picture_and_a_new_name_in_a_run(tinygen, toy_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # samples.png outside a run directory is sample's own output: replaced as any file would be
        assert tinygen("sample", toy_run / "checkpoint.npz").status == 0
    assert tinygen("sample", toy_run / "checkpoint.npz", "--out", toy_run / "samples-new.png").status == 0
