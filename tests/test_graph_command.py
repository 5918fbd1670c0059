"""``tinygen graph MODEL --out DIR``: one training step's graphs as SVG and its backward passes as a page, for
every model family (WGAN-GP's critic loss with the gradient penalty's double-backward graph); bad input is one
clear line."""
import xml.etree.ElementTree as ElementTree

import pytest

from tinygen.cli import main
from tinygen.training import MODELS
from tinygen.viz import graph as graph_module
from tinygen.training.traced_step import STEP_PASSES

SVG = "{http://www.w3.org/2000/svg}"


def op_names(path):
    """The first label line of every op node in one of tinygen's SVGs or Graphviz's."""
    root = ElementTree.parse(path).getroot()
    return {next(group.iter(f"{SVG}text")).itertext().__next__() for group in root.iter(f"{SVG}g")
            if "op" in (group.get("class") or "").split()}


def run_graph(model, out, capsys, *options):
    status = main(["graph", model, "--out", str(out), *map(str, options)])
    return status, capsys.readouterr()


def test_the_toy_gans_step_is_drawn_without_graphviz(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)
    status, printed = run_graph("toy", tmp_path / "toy", capsys)
    assert status == 0, printed.err
    files = sorted(path.name for path in (tmp_path / "toy").iterdir())
    assert files == ["backward.html", "loss_d.dot", "loss_d.svg", "loss_g.dot", "loss_g.svg"]
    notes = [line for line in printed.out.splitlines() if "Graphviz" in line]
    assert len(notes) == 1 and "dot -Tsvg NAME.dot -o NAME.svg" in notes[0]   # one note for all the files
    assert f"open {tmp_path / 'toy' / 'backward.html'} in a browser" in printed.out
    assert {"Linear", "Softplus"} <= op_names(tmp_path / "toy" / "loss_d.svg")


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_every_models_step_is_drawn(model, tmp_path, capsys):
    status, printed = run_graph(model, tmp_path, capsys, "--batch-size", 2)
    assert status == 0, printed.err
    for name, _ in STEP_PASSES[model]:
        assert (tmp_path / f"{name}.svg").stat().st_size > 0
    page = (tmp_path / "backward.html").read_text()
    assert page.count('<div class="graph"') == len(STEP_PASSES[model])


@pytest.mark.slow
def test_wgan_gp_draws_the_gradient_penaltys_double_backward_graph(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)  # tinygen's SVG, whose classes say what is an op
    status, printed = run_graph("wgan-gp", tmp_path, capsys)
    assert status == 0, printed.err
    critic_forward = op_names(tmp_path / "critic_scores.svg")
    critic_loss = op_names(tmp_path / "loss_c.svg")
    # the critic's backward, recorded by grad(..., create_graph=True), is part of the critic's loss: a conv's
    # backward is a transposed conv, leaky ReLU's a masked scale
    assert "Conv2d" in critic_forward and "ConvTranspose2d" not in critic_forward
    assert {"ConvTranspose2d", "MaskedScale", "Sqrt"} <= critic_loss


@pytest.mark.parametrize("arguments, message", [
    (["--batch-size", "0"], "tinygen graph: error: batch_size must be a positive integer, got 0"),
    (["--seed", "-1"], "tinygen graph: error: seed must be a non-negative integer, got -1"),
])
def test_bad_input_is_one_clear_line(arguments, message, tmp_path, capsys):
    status, printed = run_graph("gan", tmp_path, capsys, *arguments)
    assert status == 2 and printed.err.strip() == message


def test_an_output_directory_that_cannot_be_made_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "file").write_text("not a directory")
    status, printed = run_graph("toy", tmp_path / "file" / "graphs", capsys)
    assert status == 2
    assert printed.err.startswith(f"tinygen graph: error: cannot create the output directory '{tmp_path}/file/graphs'")
    assert len(printed.err.strip().splitlines()) == 1


def test_odd_outputs_are_named_and_a_refused_setting_leaves_no_directory(tmp_path, capsys):
    """Probes: --out "" fell back to runs/MODEL/graph; --out FILE said "File exists"; a refused --batch-size left
    an empty output directory."""
    status, printed = run_graph("toy", "", capsys)
    assert status == 2 and "--out is empty: name a directory" in printed.err
    (tmp_path / "file").write_text("mine")
    status, printed = run_graph("toy", tmp_path / "file", capsys)
    assert status == 2 and f"the output directory '{tmp_path / 'file'}' is a file" in printed.err
    status, printed = run_graph("toy", tmp_path / "new", capsys, "--batch-size", "100000000")
    assert status == 2 and not (tmp_path / "new").exists()


def test_drawing_again_says_which_files_it_replaced(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(graph_module, "find_dot", lambda: None)
    (tmp_path / "loss_d.svg").write_text("my own picture")
    status, printed = run_graph("toy", tmp_path, capsys)
    assert status == 0 and f"replaced the earlier loss_d.svg in {tmp_path}" in printed.out
