"""One training step of a model family, traced and drawn: what ``tinygen graph MODEL --out DIR`` writes.

The step is the recipe's own ``train_step`` on a small batch of the bundled data, run inside
``tinygen.autograd.trace()``: every backward walk it makes is recorded (a GAN's discriminator and generator
losses; for WGAN-GP also the gradient penalty's ``grad(..., create_graph=True)``, whose recorded backward is
then part of the critic loss's graph: the double-backward graph). Each walk's graph is written as SVG, and
the whole step as one page to step through (``backward.html``).
"""
import os

from tinygen.autograd.trace import trace
from tinygen.random import manual_seed
from tinygen.training.config import TrainConfig
from tinygen.training.data import load_training_data
from tinygen.training.loop import build_recipe
from tinygen.viz import render_graph, save_trace_page

#: the backward walks of one step of each family, in the order its ``train_step`` makes them: (file, title)
STEP_PASSES = {
    "gan": (("loss_d", "the discriminator's loss: backward()"),
            ("loss_g", "the generator's loss: backward() through the frozen discriminator")),
    "wgan-gp": (("critic_scores",
                 "the gradient penalty's first backward: grad(critic(x_hat).sum(), x_hat, create_graph=True)"),
                ("loss_c", "the critic's loss with the gradient penalty: backward() through the double-backward graph"),
                ("loss_g", "the generator's loss: backward() through the frozen critic")),
    "vae": (("loss", "the VAE's loss (-ELBO): backward()"),),
}
STEP_PASSES["dcgan"] = STEP_PASSES["toy"] = STEP_PASSES["gan"]
STEP_PASSES["conv-vae"] = STEP_PASSES["vae"]


def draw_training_step(model, out, batch_size=4, seed=0, device=None, log=print):
    """Trace one training step of ``model`` on ``batch_size`` samples and write its pictures into ``out``.

    Returns the paths written: one SVG per backward walk (``loss_d.svg``, ...) and ``backward.html``.
    """
    config = TrainConfig(model, batch_size=batch_size, seed=seed, device=device, out=out, n_critic=1, progress=False)
    if os.path.lexists(out) and not os.path.isdir(out):
        raise NotADirectoryError(f"the output directory {out!r} is a file: name a directory for the pictures")
    manual_seed(seed)
    recipe = build_recipe(config)
    train, _, _ = load_training_data(config, recipe.pixel_range)
    recipe.prepare(train)  # before the trace: the DCGAN's k-means of the digits is not part of a step
    with trace(keep_gradients=False) as recorded:
        recipe.train_step(train[:batch_size])
    try:  # only now: a setting refused above leaves no empty directory behind
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise OSError(f"cannot create the output directory {out!r}: {error.strerror or error}") from None

    passes = STEP_PASSES[model]
    if len(passes) != len(recorded.passes):  # a recipe that changed its step: number the walks instead
        passes = [(f"pass_{number}", f"backward walk {number}") for number in range(1, len(recorded.passes) + 1)]
    params = {f"{network}.{name}": parameter
              for network, module in recipe.networks().items() for name, parameter in module.named_parameters()}
    losses = {name: walk.outputs[0] for (name, _), walk in zip(passes, recorded.passes)}
    written, notes = [], []
    names = [f"{name}.svg" for name, _ in passes] + ["backward.html"]
    replaced = [name for name in names if os.path.exists(os.path.join(out, name))]
    for (name, _), walk in zip(passes, recorded.passes):
        written.append(render_graph(walk.outputs, os.path.join(out, f"{name}.svg"), params=dict(params, **losses),
                                    log=notes.append))
    if notes:  # one line for all the files, not one per file
        log("Graphviz's dot is not installed: the SVGs have tinygen's simpler layout; for Graphviz's, install it "
            f"(apt-get install graphviz) and run dot -Tsvg NAME.dot -o NAME.svg on the .dot files in {out}")
    titles = [f"{name}: {title}" for name, title in passes]
    written.append(save_trace_page(recorded, os.path.join(out, "backward.html"), params=dict(params, **losses),
                                   titles=titles))
    if replaced:
        log(f"replaced the earlier {', '.join(replaced)} in {out}")
    return written
