"""Prove an op's gradients: finite-difference checks and Hypothesis strategies.

``gradcheck`` and ``gradgradcheck`` compare backward with central differences in
float64; ``check_op`` turns them into a property test over random broadcastable shapes;
``strategies`` has the pieces to write your own.
"""

from . import strategies
from .check import check_op
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "check_op", "gradcheck", "gradgradcheck", "strategies"]
