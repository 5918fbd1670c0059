"""Plain-language warnings for the two ways a GAN run fails while its loss curves look calm.

    the discriminator wins    d_accuracy near 1: D tells every fake from every real sample. Its logits on
                              fakes are very negative, the generator's gradient through them carries little
                              signal, and the samples stop improving (loss_d near 0 is the same story).
    mode collapse             the generator makes one thing (or a few) whatever z is: the judge finds few digit
                              classes among the samples (classes_covered), or few of the toy ring's 8 modes are
                              hit (modes_covered). The losses alone do not show it.

The training loop logs these after each epoch's metrics and keeps them in ``metrics.json`` ("warnings").
"""
from tinygen.models.toy import MODES

#: d_accuracy (averaged over an epoch's steps) at or above which D is said to win
D_WINS_ACCURACY = 0.99
#: the judge's digit classes
CLASSES = 10


def diagnose(entry):
    """Warnings (a list of strings, empty when nothing looks wrong) for one epoch's metrics ``entry``."""
    warnings = []
    accuracy = entry.get("d_accuracy")
    if accuracy is not None and accuracy >= D_WINS_ACCURACY:
        warnings.append(
            f"the discriminator wins: it tells {accuracy:.1%} of real and generated samples apart (loss_d "
            f"{entry.get('loss_d', float('nan')):.3g}), so the generator gets little signal; weaken D (lower its "
            "learning rate, add dropout) or strengthen G"
        )
    for key, total, things in (("classes_covered", CLASSES, "digit classes"), ("modes_covered", MODES, "modes")):
        covered = entry.get(key)
        if covered is None:
            continue
        if covered == 0:
            warnings.append(f"the samples reach none of the {total} {things} yet: the generator has not found the data")
        elif covered == 1:
            warnings.append(f"mode collapse: the samples cover {covered} of {total} {things}; the generator makes "
                            "one thing whatever z is")
        elif covered <= total // 2:
            warnings.append(f"partial mode collapse: the samples cover only {covered} of {total} {things} "
                            "(common in the first epochs; if it persists, the generator has collapsed)")
    return warnings
