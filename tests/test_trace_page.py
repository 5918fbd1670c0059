"""The page that steps through a traced backward pass (tinygen/viz/trace_page.py): self-contained, its steps are
the trace's (seed, one per visited node, the leaves), and in a real browser (headless Chromium) it loads with no
console error, the buttons and arrow keys move the highlight, and the last step shows every leaf's gradient."""
import json
import re

import numpy as np
import pytest

import tinygen
from tinygen.autograd import trace
from tinygen.viz import save_trace_page, save_trace_svg
from tinygen.viz.graph import build_graph

from browser import browser, console_problems  # noqa: F401  (browser is a fixture)
from helpers import host, random_tensor

DATA = re.compile(r'<script type="application/json" id="trace-data">(.*?)</script>', re.S)


def page_data(path):
    return json.loads(DATA.search(path.read_text()).group(1))


def traced_expression():
    x = tinygen.tensor([1.0, 2.0], requires_grad=True)
    w = tinygen.tensor([3.0, -1.0], requires_grad=True)
    loss = (x * w).tanh().sum()
    with trace() as t:
        loss.backward()
    return t, {"x": x, "w": w, "loss": loss}


def test_the_page_is_self_contained(tmp_path):
    t, names = traced_expression()
    page = save_trace_page(t, tmp_path / "backward.html", params=names)
    text = (tmp_path / "backward.html").read_text()
    assert page == tmp_path / "backward.html"
    assert "default-src 'none'" in text                      # the browser itself forbids every load
    assert "<link" not in text and " src=" not in text and "@import" not in text
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) == {"http://www.w3.org/2000/svg"}  # a namespace, not a load
    assert text.count("<svg") == 1


def test_the_steps_are_the_seed_each_visit_and_the_leaves(tmp_path):
    t, names = traced_expression()
    save_trace_page(t, tmp_path / "backward.html", params=names)
    graph = build_graph([names["loss"]], names)
    (walk,) = page_data(tmp_path / "backward.html")["passes"]
    steps = walk["steps"]
    assert [step["title"] for step in steps] == ["Seed", "Sum #1", "Tanh #2", "Mul #3", "Leaves"]
    assert steps[0]["nodes"] == [graph.id_of(names["loss"])] and steps[0]["rows"][0][6] == "[1]"
    tanh = graph.id_of(names["loss"].grad_fn.next_edges[0])
    assert steps[1]["receiving"] == [tanh] and steps[2]["nodes"] == [tanh]
    mul_step = steps[3]
    assert [row[0] for row in mul_step["rows"]] == ["dL/d(output) in", "to x", "to w"]
    assert len(mul_step["edges"]) == 2
    leaves = steps[-1]
    assert leaves["nodes"] == [graph.id_of(names["x"]), graph.id_of(names["w"])]
    expected = f"{float(np.linalg.norm(host(names['x'].grad))):.4g}"
    assert leaves["rows"][0][:3] == ["x", "(2,) float32", expected]


def test_names_and_titles_are_escaped(tmp_path):
    x = random_tensor((2,), seed=1)
    with trace() as t:
        (x * 2).sum().backward()
    hostile = "</script><!--<script>alert(1)</script>__DATA__"
    save_trace_page(t, tmp_path / "page.html", params={hostile: x}, titles=[hostile])
    text = (tmp_path / "page.html").read_text()
    assert text.count("<script") == 2 and hostile not in text and text.count('"passes"') == 1
    steps = page_data(tmp_path / "page.html")["passes"][0]["steps"]
    assert steps[-1]["rows"][0][0] == hostile


def test_titles_must_match_the_passes(tmp_path):
    t, names = traced_expression()
    with pytest.raises(ValueError, match="save_trace_page: got 2 titles for 1 passes"):
        save_trace_page(t, tmp_path / "page.html", titles=["a", "b"])


def test_a_walk_that_failed_and_a_gradient_that_is_not_finite_are_shown(tmp_path):
    x = tinygen.tensor([0.0, 1.0], dtype=tinygen.float64, requires_grad=True)
    loss = x.sqrt().sum()
    with np.errstate(divide="ignore"):
        loss.backward()
    with pytest.raises(RuntimeError):
        with trace() as t:
            with np.errstate(divide="ignore"):
                (x.sqrt() * 1.0).sum().backward()
            loss.backward()  # freed
    save_trace_page(t, tmp_path / "page.html")
    first, second = page_data(tmp_path / "page.html")["passes"]
    assert first["steps"][-1]["rows"][0][5] == "NO"     # sqrt'(0) = inf
    assert second["steps"][-1]["title"] == "The walk stopped here"
    assert "second time" in second["steps"][-1]["text"]


def test_a_big_trace_page_is_refused_with_its_size(tmp_path):
    x = random_tensor((2,), seed=2)
    y = x
    for _ in range(30):
        y = y * 1.0
    with trace() as t:
        y.sum().backward()
    with pytest.raises(ValueError,
                       match=r"save_trace_page: the graph has 33 nodes \(31 ops\), more than max_nodes=20"):
        save_trace_page(t, tmp_path / "page.html", max_nodes=20)


def test_a_static_picture_of_a_pass(tmp_path):
    x = tinygen.tensor([2.0], requires_grad=True)
    with trace() as t:
        (x * x + x).backward()
    save_trace_svg(t.passes[0], tmp_path / "reuse.svg", params={"x": x})
    text = (tmp_path / "reuse.svg").read_text()
    notes = re.findall(r'class="note"[^>]*>g = (\d)<', text)   # the seed, Add's two gradients, Mul's two
    assert sorted(notes) == ["1", "1", "1", "2", "2"]            # x gets 2 + 2 + 1 = dy/dx = 2x + 1 = 5 at x = 2


# --- in a real browser -----------------------------------------------------------------------------------------------

def state(driver):
    """What the page shows: the ids of the highlighted nodes and edges (without the pass prefix), and the counter."""
    return driver.execute_script("""
        const graph = document.querySelector('.graph:not([hidden])');
        const ids = (selector) => Array.from(graph.querySelectorAll(selector)).map(e => e.id.replace(/^p\\d+-/, ''));
        return {current: ids('.node.current'), visited: ids('.node.visited'), receiving: ids('.node.receiving'),
                edges: ids('.edge.active'), counter: document.getElementById('counter').textContent,
                graph: graph.id, rows: Array.from(document.querySelectorAll('#numbers tbody tr'))
                    .map(row => Array.from(row.cells).map(cell => cell.textContent))};
    """)


def open_page(driver, path):
    driver.get(path.as_uri())
    console_problems(driver)  # earlier pages' messages
    return driver.find_element("tag name", "body")


@pytest.mark.slow
def test_in_a_browser_the_controls_step_through_the_walk(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    t, names = traced_expression()
    save_trace_page(t, tmp_path / "backward.html", params=names)
    graph = build_graph([names["loss"]], names)
    sum_node, tanh, mul = (graph.id_of(node) for node in (names["loss"].grad_fn,
                                                          names["loss"].grad_fn.next_edges[0],
                                                          names["loss"].grad_fn.next_edges[0].next_edges[0]))
    body = open_page(browser, tmp_path / "backward.html")
    first = state(browser)
    assert first["current"] == [graph.id_of(names["loss"])] and first["counter"] == "step 1 of 5"
    assert first["rows"][0][0] == "loss"

    body.send_keys(Keys.ARROW_RIGHT)
    step = state(browser)
    assert step["current"] == [sum_node] and step["receiving"] == [tanh]
    assert step["edges"] == [graph.edge_id(tanh, sum_node, 0)] and step["counter"] == "step 2 of 5"
    browser.find_element("id", "next").click()
    assert state(browser)["current"] == [tanh] and state(browser)["visited"] == [sum_node]
    body.send_keys(Keys.ARROW_LEFT)
    assert state(browser)["current"] == [sum_node]

    body.send_keys(Keys.END)
    last = state(browser)
    leaves = [graph.id_of(names["x"]), graph.id_of(names["w"])]
    assert sorted(last["current"]) == sorted(leaves) and sorted(last["visited"]) == sorted([sum_node, tanh, mul])
    shown = {row[0]: row for row in last["rows"]}
    for name in ("x", "w"):   # every leaf's gradient, as backward() stored it
        gradient = host(names[name].grad)
        assert shown[name][2] == f"{float(np.linalg.norm(gradient)):.4g}"
        assert shown[name][6] == "[" + ", ".join(f"{value:.4g}" for value in gradient.astype(float)) + "]"
    assert browser.find_element("id", "next").get_attribute("disabled") is not None

    browser.find_element("id", "first").click()
    assert state(browser)["counter"] == "step 1 of 5"
    browser.find_element("id", "slider").send_keys(Keys.ARROW_RIGHT)   # the slider's own keys: one step, not two
    assert state(browser)["counter"] == "step 2 of 5"
    browser.find_element("id", f"p0-{mul}").click()                      # click an op: jump to its visit
    assert state(browser)["current"] == [mul]

    assert console_problems(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


@pytest.mark.slow
def test_in_a_browser_the_pass_selector_switches_graphs(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.support.ui import Select

    x = random_tensor((3,), seed=3)
    with trace() as t:
        (first,) = tinygen.grad((x ** 3).sum(), [x], create_graph=True)
        first.sum().backward()
    save_trace_page(t, tmp_path / "two.html", params={"x": x})
    body = open_page(browser, tmp_path / "two.html")
    assert state(browser)["graph"] == "graph-0"
    Select(browser.find_element("id", "pass")).select_by_index(1)
    body.click()
    second = state(browser)
    steps = page_data(tmp_path / "two.html")["passes"][1]["steps"]
    assert second["graph"] == "graph-1" and second["counter"] == f"step 1 of {len(steps)}"
    assert browser.find_element("id", "graph-0").get_attribute("hidden") is not None
    from selenium.webdriver.common.keys import Keys

    body.send_keys(Keys.END)
    assert [row[0] for row in state(browser)["rows"]] == ["x"]
    assert console_problems(browser) == []


@pytest.mark.slow
@pytest.mark.parametrize("model", ["dcgan", "wgan-gp"])
def test_in_a_browser_a_training_steps_page_ends_in_the_trained_parameters(browser, model, tmp_path):  # noqa: F811
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    from tinygen.training.traced_step import STEP_PASSES, draw_training_step

    draw_training_step(model, str(tmp_path), log=lambda line: None)
    body = open_page(browser, tmp_path / "backward.html")
    passes = page_data(tmp_path / "backward.html")["passes"]
    assert len(passes) == len(STEP_PASSES[model])
    critic = "critic" if model == "wgan-gp" else "discriminator"
    trains = {"loss_d": critic, "loss_c": critic, "loss_g": "generator"}
    # WGAN-GP's penalty differentiates the critic at interpolated images, an unnamed leaf that requires grad. Its
    # critic's layer norm makes the input gradient depend on the input, so the critic's backward reaches that leaf
    # too: the one leaf of a training pass that is not the trained network's parameter.
    also_reached = {("wgan-gp", "loss_c"): ["leaf"]}
    for index, (name, _) in enumerate(STEP_PASSES[model]):
        Select(browser.find_element("id", "pass")).select_by_index(index)
        body.click()
        body.send_keys(Keys.END)
        leaves = [row[0] for row in state(browser)["rows"]]
        if name in trains:
            others = [leaf for leaf in leaves if not leaf.startswith(trains[name] + ".")]
            assert len(leaves) > len(others) and others == also_reached.get((model, name), []), (name, leaves)
    assert console_problems(browser) == []



def test_the_wrong_object_or_file_name_is_one_clear_error(tmp_path):
    """Probes: save_trace_svg(t, ...) with the whole trace, or save_trace_page with one pass, raised a raw
    AttributeError; save_trace_svg(pass, "x.png") wrote SVG text into a .png."""
    x = tinygen.ones(2, requires_grad=True)
    with trace() as t:
        (x * 2).sum().backward()
    with pytest.raises(TypeError, match=r"save_trace_svg: expected one recorded pass \(t.passes\[i\]\), got Trace; "
                                        r"pick one pass of it: t.passes\[0\]"):
        save_trace_svg(t, tmp_path / "x.svg")
    with pytest.raises(TypeError, match="save_trace_page: expected what .* recorded .t., got BackwardPass"):
        save_trace_page(t.passes[0], tmp_path / "x.html")
    with pytest.raises(ValueError, match=r"save_trace_svg: cannot write .*x.png.: the name must end in .svg"):
        save_trace_svg(t.passes[0], tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"the name must end in .html or .htm"):
        save_trace_page(t, tmp_path / "page")
    assert sorted(tmp_path.iterdir()) == []


def test_an_output_given_twice_has_its_seeds_summed_on_its_edge():
    """Probe: backward([h, h]) labelled h's edge "g = 1", though Sum received 2."""
    a = tinygen.ones(2, requires_grad=True)
    h = (a * 3.0).sum()
    with trace() as t:
        tinygen.autograd.backward([h, h])
    from tinygen.viz.trace_page import _PassView
    notes = _PassView(t.passes[0], None, 100, "test").edge_notes()
    assert "2 seeds, summed" in notes.values()
