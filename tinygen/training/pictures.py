"""What a run draws: sample grids from fixed noise, the latent walk, loss curves, and per-family plots."""
import math

from tinygen.cores import map_on_cores
from tinygen.ops.shape import cat
from tinygen.training.recipe import evaluation_mode
from tinygen.viz import image_grid, plot_latent_space, plot_points, save_gif, save_image

WALK_FRAMES = 48
#: samples generated at once: drawing many takes the memory of this many samples' activations
GENERATE_BATCH = 256


def generate(recipe, noise):
    """``recipe.generate(noise)``, ``GENERATE_BATCH`` codes at a time, the batches spread over the CPU's cores
    (``map_on_cores``). In eval mode each sample depends on its own code only, so the batches change
    nothing but the memory and the time it takes. The networks switch to eval mode once, around all the batches:
    each batch's own switch then finds them in eval mode and leaves them so, and no thread switches one back while
    another still draws."""
    if noise.shape[0] <= GENERATE_BATCH:
        return recipe.generate(noise)
    batches = [noise[start:start + GENERATE_BATCH] for start in range(0, noise.shape[0], GENERATE_BATCH)]
    with evaluation_mode(*recipe.networks().values()):
        return cat(map_on_cores(recipe.generate, batches, noise.device))


def square_columns(count):
    """Pictures per row of a grid as near square as can be: ceil(sqrt(count)) (64: 8 x 8; 10: 4 x 3; 2: 2 x 1)."""
    return math.ceil(math.sqrt(count))


def save_samples(recipe, noise, path, reference=None, title="samples"):
    """A square grid (``square_columns``; 10,000 samples: 100 x 100) of the samples the recipe makes from ``noise``,
    or, for 2-D points, a scatter; PNG or JPEG, as the suffix of ``path`` says."""
    samples = generate(recipe, noise)
    if recipe.sample_kind == "points":
        plot_points(samples.numpy(), path, reference=None if reference is None else reference.numpy(), title=title)
    else:
        save_image(image_grid(samples, nrow=square_columns(samples.shape[0])), path)


def save_latent_walk(recipe, start, end, path, frames=WALK_FRAMES):
    """A looping GIF: each sample follows the great circle z(t) = cos(t) a + sin(t) b, t in [0, 2 pi).

    Along that circle ||z|| stays near sqrt(latent_dim), where N(0, I) puts its mass, so every frame is
    a typical sample (a straight line between a and b would pass through atypically short codes).
    """
    pictures = []
    for frame in range(frames):
        angle = 2 * math.pi * frame / frames
        z = start * math.cos(angle) + end * math.sin(angle)
        pictures.append(image_grid(generate(recipe, z), nrow=square_columns(z.shape[0])))
    save_gif(pictures, path)


def save_latent_space(vae, images, labels, path):
    """For a VAE with a 2-D latent space: the held-out digits' posterior means, coloured by label."""
    from tinygen.autograd.grad_mode import no_grad

    with no_grad():
        mu, _ = vae.encode(images)
    plot_latent_space(mu.numpy(), labels.numpy(), path)
