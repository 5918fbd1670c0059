"""Training runs: a config, one recipe per model family, the shared loop, checkpoints and pictures."""
from tinygen.training.checkpoint import load_checkpoint, save_checkpoint
from tinygen.training.config import DEFAULTS, MODELS, RECIPES, SEED_DEFAULTS, TrainConfig
from tinygen.training.loop import build_recipe, train

__all__ = ["DEFAULTS", "MODELS", "RECIPES", "SEED_DEFAULTS", "TrainConfig", "build_recipe", "load_checkpoint",
           "save_checkpoint", "train"]
