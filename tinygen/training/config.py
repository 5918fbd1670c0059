"""What a training run is: the model family and its settings, with per-family defaults and checks."""
import dataclasses
import math
import numbers
import os

from tinygen.backend import normalize_device
from tinygen.models.vae import ACTIVATIONS as VAE_ACTIVATIONS

MODELS = ("gan", "dcgan", "wgan-gp", "vae", "conv-vae", "toy")
#: "default": tinygen's recipes (see tinygen/training/gan.py); "seed": the first release's, kept for comparison
RECIPES = ("default", "seed")
#: families whose networks use batch norm in training mode: a batch of one sample has no batch statistics
#: (the MLP GAN's default generator has batch norm)
BATCH_NORM_MODELS = ("gan", "dcgan", "wgan-gp")
#: the largest learning rate accepted: Adam moves every weight by about lr per step, and beyond this no network
#: here survives a single step (PyTorch accepts any number; a typo like 1e3 for 1e-3 is more likely than intent)
MAX_LR = 10.0

#: Defaults per family. Adam's betas: (0.5, 0.999) for (DC)GANs (Radford et al.), (0.5, 0.9) for the seed WGAN-GP,
#: PyTorch's defaults for the VAE.
SEED_DEFAULTS = {
    "gan": dict(epochs=30, batch_size=64, lr=2e-4, latent_dim=100, betas=(0.5, 0.999)),
    "dcgan": dict(epochs=15, batch_size=64, lr=2e-4, latent_dim=100, betas=(0.5, 0.999), discriminator_features=64),
    "wgan-gp": dict(epochs=15, batch_size=64, lr=1e-4, latent_dim=100, betas=(0.5, 0.9), critic_norm="none"),
    "vae": dict(epochs=40, batch_size=128, lr=1e-3, latent_dim=16, betas=(0.9, 0.999), augment_shift=0,
                activation="relu"),
    "toy": dict(epochs=20, batch_size=256, lr=1e-3, latent_dim=2, betas=(0.5, 0.999)),
}
#: The default recipes' settings, chosen on the judge's scores of seed 0 (notes: benchmarks/quality.py). Smaller
#: batches for the GANs: on a CPU a step of 32 costs little more than half a step of 64, and G learns per step.
DEFAULTS = dict(
    SEED_DEFAULTS,
    **{
        "gan": dict(epochs=20, batch_size=64, lr=3e-4, latent_dim=100, betas=(0.5, 0.999), average_decay=0.999),
        # DCGAN: D at half G's width, the time it saves spent on more epochs; D learns at 2 lr
        # (tinygen/training/gan.py); Adam's betas (0, 0.9) (FD of seeds 0-2: 95.0 against 103.3 with (0.5, 0.999), at
        # the same cost); the average of G that samples come from keeps 0.99 of itself per step (FD of seeds 0-2: 86.0
        # / 91.2 / 96.6 against 92.4 / 95.3 / 97.3 with 0.999, at 16 epochs); self-conditioned on 80 k-means
        # clusters of the training digits (FD of seed 0 at 24 epochs with 20 / 40 / 80 / 160 clusters: 29.3 / 28.6 /
        # 20.6 / 26.5 against 65.0 without); 20 epochs (FD of seeds 0-2: 18.3 / 25.3 / 26.1, IS 9.08 / 9.11 / 9.05;
        # at 24: 20.6 / 25.3 / 22.9; at 16: 23.1 / 25.3 / 28.9), about 1.04 times as long as the seed recipe's 15
        # on 2 cores (an epoch of 32s costs 0.78 of one of its 64s), so under the 4 minutes of a machine where the
        # seed recipe takes 3 min 14 s (24 would take 1.24 times as long, at that limit)
        "dcgan": dict(epochs=20, batch_size=32, lr=3e-4, latent_dim=100, betas=(0.0, 0.9), discriminator_features=32,
                      average_decay=0.99, clusters=80),
        # WGAN-GP: Gulrajani et al.'s betas (0, 0.9), a critic step per G step; the average of G keeps 0.99 of itself
        # per G step (FD of seeds 0-2: 94.0 / 121.8 / 115.3 against 98.1 / 125.4 / 117.9 with 0.999); the critic
        # standardizes each sample's activations after its second convolution, Gulrajani et al.'s layer norm (FD of
        # seeds 0-2: 56.0 / 52.0 / 53.6 against 94.0 / 121.8 / 115.3 without; a step costs 1.18 times as much)
        "wgan-gp": dict(epochs=10, batch_size=32, lr=3e-4, latent_dim=100, betas=(0.0, 0.9), n_critic=1,
                        average_decay=0.99, critic_norm="layer"),
        # VAE: a 3x higher learning rate, decayed linearly to 0 over the second half of the run; a wider latent space;
        # half the training digits shifted by up to a pixel (held-out -ELBO of seeds 0-2: 108.7 / 108.5 / 109.2
        # against 109.7 / 109.8 / 109.7 unshifted), which keeps it learning longer: 160 epochs instead of 40 (105.7 /
        # 105.5 / 105.7; 106.7 / 106.9 / 107.4 at 80 epochs, 106.3 on seed 0 at 120; 512 hidden units instead of 400
        # at 120 epochs: 105.9 / 105.8 / 105.7 in as much time), in 1.8 times the CPU time of 80 epochs (199 against
        # 107 s on one busy core); SiLU hidden layers instead of ReLUs: 104.4 / 104.6 / 104.6 in 171-189 s
        "vae": dict(epochs=160, batch_size=128, lr=3e-3, latent_dim=32, betas=(0.9, 0.999), lr_decay=0.5,
                    augment_shift=1, activation="silu"),
        # conv VAE: half the training digits shifted by up to a pixel, which keeps it learning longer: 45 epochs instead
        # of 30, which take 0.82-0.83 of the time of the seed DCGAN recipe's 15 on 2 cores (so under 3 minutes where
        # that takes 3 min 14 s): held-out -ELBO of seeds 0-2 104.2 / 104.5 / 104.6 against 106.5 / 106.5 / 105.9
        # (105.4 on seed 0 in 45 epochs unshifted); its learning rate decays linearly to 0 over the second half (103.6
        # / 104.3 / 103.7, at no cost; lr 3e-3 decayed, as the MLP VAE's, scored worse on seed 0: 109.0 at 30 epochs);
        # its decoder is autoregressive: each pixel's logit also reads the 12 pixels before it in a 5x5 window
        # (PixelVAE): held-out -ELBO 90.1 / 89.5 / 92.1 against 103.6 / 104.3 / 103.7 with the plain decoder, samples'
        # Frechet distance 188 / 184 / 204 against 236 / 268 / 286; 45 epochs take 0.86 of the seed DCGAN recipe's
        # time on 2 cores (medians of epochs timed in alternation; 0.77 with the plain decoder), under its 0.93
        "conv-vae": dict(epochs=45, batch_size=128, lr=1e-3, latent_dim=16, betas=(0.9, 0.999), augment_shift=1,
                         lr_decay=0.5, decoder="autoregressive"),
    },
)
#: settings every family has, unless its defaults say otherwise
COMMON_DEFAULTS = dict(n_critic=5, lr_decay=0.0)
#: families whose D's width is a setting (``discriminator_features``)
WIDTH_MODELS = ("dcgan",)
#: families whose default recipe samples from an exponential moving average of G's weights (``average_decay``); the
#: seed recipes and the other families sample from their generator itself
AVERAGE_MODELS = ("gan", "dcgan", "wgan-gp")
#: families whose training images may be shifted (``augment_shift``; a DCGAN's D sees shifted images by its recipe)
AUGMENT_MODELS = ("vae", "conv-vae")
#: the largest shift: a digit moved by 28 pixels or more leaves the 28x28 picture
MAX_SHIFT = 27
#: families whose hidden layers' activation is a setting (``activation``), and the activations they take
ACTIVATION_MODELS = ("vae",)
ACTIVATIONS = tuple(VAE_ACTIVATIONS)
#: families whose critic's normalization is a setting (``critic_norm``), and the normalizations they take
CRITIC_NORM_MODELS = ("wgan-gp",)
CRITIC_NORMS = ("none", "layer")
#: families whose decoder is a setting (``decoder``): "plain" (pixels independent given z) or "autoregressive"
#: (each pixel's logit also reads the pixels before it: ``models.ConvVAE(autoregressive=True)``)
DECODER_MODELS = ("conv-vae",)
DECODERS = ("plain", "autoregressive")
#: families whose default recipe may be self-conditioned on k-means clusters of the training images (``clusters``)
CLUSTER_MODELS = ("dcgan",)


@dataclasses.dataclass
class TrainConfig:
    """Settings of one run. ``None`` fields take the family's default (``DEFAULTS``, or ``SEED_DEFAULTS`` for the
    seed recipe)."""

    model: str
    epochs: int = None
    batch_size: int = None
    lr: float = None
    latent_dim: int = None
    betas: tuple = None
    seed: int = 0
    device: str = None          # default: tinygen's default device (TINYGEN_DEVICE)
    out: str = None
    subset: int = None          # train on the first N training samples only (quick runs)
    eval_size: int = 1000       # held out from the bundled data for evaluation (and samples scored per epoch)
    n_critic: int = None        # WGAN-GP: critic steps per generator step
    discriminator_features: int = None  # DCGAN: channels of D's first convolution (doubled at the second)
    average_decay: float = None  # default GANs: the average of G that samples come from keeps this share per step
    lr_decay: float = None      # the learning rate decays linearly to 0 over this last fraction of the steps (0: none)
    augment_shift: int = None   # VAEs: half the training images move by up to this many pixels each way (0: none)
    activation: str = None      # MLP VAE: its hidden layers' activation, "relu" or "silu"
    critic_norm: str = None     # WGAN-GP: "layer" (a layer norm after the critic's second convolution) or "none"
    decoder: str = None         # conv VAE: "autoregressive" (a pixel's logit reads the pixels before it) or "plain"
    clusters: int = None        # default DCGAN: G and D are conditioned on this many k-means clusters (0: none)
    gp_lambda: float = 10.0     # WGAN-GP: weight of the gradient penalty
    beta: float = 1.0           # VAE: weight of the KL term
    progress: bool = True       # show a progress bar
    resume: bool = False        # continue from ``out/checkpoint.npz``
    recipe: str = "default"     # "seed": the first release's architectures and settings, for comparison
    overwrite: bool = False     # replace another run's outputs in ``out`` (else a fresh run there is refused)

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}: choose one of {', '.join(MODELS)}")
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}: choose one of {', '.join(RECIPES)}")
        defaults = (DEFAULTS if self.recipe == "default" else SEED_DEFAULTS).get(self.model)
        if defaults is None:
            raise ValueError(f"{self.model} is new since the seed recipes: it has only the default recipe")
        for name, value in dict(COMMON_DEFAULTS, **defaults).items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if not (isinstance(self.betas, (tuple, list)) and len(self.betas) == 2 and all(map(_is_real, self.betas))
                and all(0 <= beta < 1 for beta in self.betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {self.betas!r}")
        self.betas = tuple(float(beta) for beta in self.betas)
        self.device = normalize_device(self.device)
        if self.out is None:
            self.out = f"runs/{self.model}"
        if isinstance(self.out, os.PathLike):  # a pathlib.Path, as tmp_path and most scripts hold paths
            self.out = os.fspath(self.out)
        if not isinstance(self.out, str) or not self.out:
            raise ValueError(f"out must be a directory name, got {self.out!r}")
        positive = dict(epochs=self.epochs, batch_size=self.batch_size, latent_dim=self.latent_dim,
                        n_critic=self.n_critic, eval_size=self.eval_size)
        if self.model in WIDTH_MODELS:
            positive["discriminator_features"] = self.discriminator_features
        elif self.discriminator_features is not None:
            raise ValueError(f"discriminator_features is a setting of {', '.join(WIDTH_MODELS)} only, not of "
                             f"{self.model} (got {self.discriminator_features!r})")
        if self.recipe == "default" and self.model in AVERAGE_MODELS:
            if not _is_real(self.average_decay) or not 0 <= self.average_decay < 1:
                raise ValueError(f"average_decay must be a number in [0, 1) (the share of the average of G's weights "
                                 f"that each update keeps), got {self.average_decay!r}")
            self.average_decay = float(self.average_decay)
        elif self.average_decay is not None:
            raise ValueError(f"average_decay is a setting of the default recipes of {', '.join(AVERAGE_MODELS)} only, "
                             f"which sample from an average of G's weights; the {self.recipe} recipe of {self.model} "
                             f"keeps none (got {self.average_decay!r})")
        if self.recipe == "default" and self.model in CLUSTER_MODELS:
            if not _is_integer(self.clusters) or self.clusters < 0 or self.clusters == 1:
                raise ValueError(f"clusters must be 0 (none) or a whole number of k-means clusters of at least 2, "
                                 f"got {self.clusters!r}")
        elif self.clusters is not None:
            raise ValueError(f"clusters is a setting of the default recipe of {', '.join(CLUSTER_MODELS)} only, not "
                             f"of the {self.recipe} recipe of {self.model} (got {self.clusters!r})")
        if self.model in AUGMENT_MODELS:
            if not _is_integer(self.augment_shift) or not 0 <= self.augment_shift <= MAX_SHIFT:
                raise ValueError(f"augment_shift must be a whole number of pixels from 0 (no shift) to {MAX_SHIFT}, "
                                 f"got {self.augment_shift!r}")
        elif self.augment_shift is not None:
            raise ValueError(f"augment_shift is a setting of {', '.join(AUGMENT_MODELS)} only, not of {self.model} "
                             f"(got {self.augment_shift!r})")
        self._check_named_choice("activation", ACTIVATION_MODELS, ACTIVATIONS)
        self._check_named_choice("critic_norm", CRITIC_NORM_MODELS, CRITIC_NORMS)
        self._check_named_choice("decoder", DECODER_MODELS, DECODERS)
        for name, value in positive.items():
            if not _is_integer(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.model in BATCH_NORM_MODELS and self.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2 for a model with batch norm ({self.model}), got "
                             f"{self.batch_size}: the statistics of a batch of one sample are not defined")
        if not _is_real(self.lr) or not 0 < self.lr <= MAX_LR:
            raise ValueError(f"lr must be a positive number, got {self.lr!r}" + (
                f" (a finite learning rate, at most {MAX_LR:g}: above that every weight moves by more than "
                f"{MAX_LR:g} per step)" if _is_real(self.lr) and self.lr > 0 else ""))
        if not _is_real(self.lr_decay) or not 0 <= self.lr_decay <= 1:
            raise ValueError(f"lr_decay must be a fraction of the run in [0, 1] (0: a constant learning rate), got "
                             f"{self.lr_decay!r}")
        for name, value in dict(gp_lambda=self.gp_lambda, beta=self.beta).items():
            if not _is_real(value) or not value >= 0 or not math.isfinite(value):
                raise ValueError(f"{name} must be a non-negative number, got {value!r}"
                                 + (" (it must be finite)" if _is_real(value) and value > 0 else ""))
        if self.subset is not None and (not _is_integer(self.subset) or self.subset < 1):
            raise ValueError(f"subset must be a positive number of samples, got {self.subset!r}")
        if not _is_integer(self.seed) or not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}"
                             + (" (below 2**63)" if _is_integer(self.seed) and self.seed > 0 else ""))
        for name in ("progress", "resume", "overwrite"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def _check_named_choice(self, name, families, choices):
        """A setting that names one of ``choices`` in the ``families`` that have it, and is unset in the others."""
        value = getattr(self, name)
        if self.model in families:
            if value not in choices:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
        elif value is not None:
            raise ValueError(f"{name} is a setting of {', '.join(families)} only, not of {self.model} (got {value!r})")

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """The config a checkpoint saved (settings it lacks: ``settings_of_an_older_checkpoint``)."""
        fields = {field.name for field in dataclasses.fields(cls)}
        values = settings_of_an_older_checkpoint(values)
        return cls(**{key: value for key, value in values.items() if key in fields})


def settings_of_an_older_checkpoint(values):
    """A checkpoint's saved settings, with each setting it lacks at the value every run had before that setting
    existed: an unnamed recipe is the seed recipe, a DCGAN's D has 64 features, the learning rate does not decay,
    the average of a default GAN's G keeps 0.999 per update, a VAE's training images are not shifted and its
    hidden layers are ReLUs, a WGAN-GP critic has no layer norm, a conv VAE's decoder is plain, a default DCGAN has
    no clusters."""
    before = dict(recipe="seed", lr_decay=0.0)
    default_recipe = values.get("recipe", before["recipe"]) == "default"
    if values.get("model") in WIDTH_MODELS:
        before["discriminator_features"] = 64
    if values.get("model") in AVERAGE_MODELS and default_recipe:
        before["average_decay"] = 0.999
    if values.get("model") in CLUSTER_MODELS and default_recipe:
        before["clusters"] = 0
    if values.get("model") in AUGMENT_MODELS:
        before["augment_shift"] = 0
    if values.get("model") in ACTIVATION_MODELS:
        before["activation"] = "relu"
    if values.get("model") in CRITIC_NORM_MODELS:
        before["critic_norm"] = "none"
    if values.get("model") in DECODER_MODELS:
        before["decoder"] = "plain"
    return dict(before, **values)


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
