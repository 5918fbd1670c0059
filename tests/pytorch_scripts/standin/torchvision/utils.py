"""save_image for the stand-in: the pictures go through tinygen.vision.utils (they play no part in the losses)."""
import tinygen
import tinygen.vision.utils


def save_image(tensor, fp, **options):
    tinygen.vision.utils.save_image(tinygen.tensor(tensor.detach().cpu().numpy()), fp, **options)
