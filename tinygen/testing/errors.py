"""The one exception of every gradient check."""


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with finite differences (or the checked function misbehaved)."""
