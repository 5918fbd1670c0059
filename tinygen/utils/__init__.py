"""``tinygen.utils``: PyTorch's ``torch.utils`` namespace; ``tinygen.utils.data`` holds the per-sample data API."""
from tinygen.utils import data  # noqa: F401
