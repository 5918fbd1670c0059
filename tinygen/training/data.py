"""The data a run trains and evaluates on: the bundled MNIST digits (or the toy ring), scaled and split.

The last ``eval_size`` samples are held out for evaluation and never trained on, so every run (and the
judge classifier) is measured on the same unseen digits.
"""
from tinygen.data import ScalePixels, load_mnist, split_images
from tinygen.models.toy import sample_ring
from tinygen.random import Generator

TOY_SAMPLES = 10_000


def load_training_data(config, pixel_range):
    """``(train, held_out, held_out_labels)`` tensors on ``config.device``; labels are ``None`` for the toy."""
    if config.model == "toy":
        points = sample_ring(TOY_SAMPLES, generator=Generator(config.device, seed=config.seed), device=config.device)
        train, held_out, labels = points[:-config.eval_size], points[-config.eval_size:], None
    else:
        images, digits = load_mnist(device=config.device)
        images = ScalePixels(*pixel_range)(images)
        (train, _), (held_out, labels) = split_images(images, digits, config.eval_size)
    if config.clusters and config.clusters > train.shape[0]:  # a --subset may leave some empty, not most
        raise ValueError(f"clusters {config.clusters} is more than the {train.shape[0]} training samples: at most one "
                         "cluster per training image")
    if config.subset is not None:
        if config.subset > train.shape[0]:
            raise ValueError(f"subset {config.subset} is larger than the {train.shape[0]} training samples")
        train = train[:config.subset]
    if config.batch_size > train.shape[0]:
        raise ValueError(
            f"batch_size {config.batch_size} is larger than the {train.shape[0]} training samples: "
            "no full batch could be drawn"
        )
    return train, held_out, labels


