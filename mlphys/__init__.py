"""mlphys: the companion package of the book "Machine learning meets physics".

One module per idea (``linreg``, ``bayes``, ...); the reproduction registry lives
in :mod:`mlphys.registry` and is run with ``python -m mlphys reproduce``.
"""
from .config import SCALES, get_scale, make_rng, setup_notebook

__version__ = "0.1.0"
__all__ = ["SCALES", "get_scale", "make_rng", "setup_notebook", "__version__"]
