"""The differentiable ops, grouped by family. Each module pairs ``Function`` classes (forward + backward)
with the public functions that check their inputs and call them."""
from tinygen.ops import checks  # noqa: F401
from tinygen.ops import shape  # noqa: F401
from tinygen.ops import arithmetic  # noqa: F401
from tinygen.ops import elementwise  # noqa: F401
from tinygen.ops import comparison  # noqa: F401
from tinygen.ops import reduction  # noqa: F401
from tinygen.ops import indexing  # noqa: F401
from tinygen.ops import pieces  # noqa: F401
from tinygen.ops import scan  # noqa: F401
from tinygen.ops import triangular  # noqa: F401
from tinygen.ops import sorting  # noqa: F401
from tinygen.ops import special  # noqa: F401
from tinygen.ops import linalg  # noqa: F401
from tinygen.ops import activation  # noqa: F401
from tinygen.ops import norm  # noqa: F401  (issue 15)
from tinygen.ops import attention  # noqa: F401
