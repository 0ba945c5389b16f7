"""Tolerances worked out from float32 arithmetic, not measured on one machine.

Every float32 +, *, /, sqrt rounds with a relative error of at most ``U = 2**-24``. A sum or dot
product of n terms, in any order, is within about ``n * U * sum(|terms|)`` of the exact value
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 3.1), so two kernels
that add in different orders (a library and a hand-written reference, SIMD widths, thread
counts) can differ by twice that. The helpers below turn that into the few bounds the tests need.
"""

from __future__ import annotations

U = 2.0**-24  # float32 unit roundoff (half of torch.finfo(torch.float32).eps)


def sum_error(n: int, magnitude: float = 1.0) -> float:
    """Most two float32 sums of the same n terms can differ (``magnitude`` = sum of |terms|)."""
    return 2 * n * U * magnitude


def cosine_error(d: int) -> float:
    """Most a float32 cosine of two d-vectors can be off (both normalised in float32 first).

    Normalising a vector takes a d-term sum of squares, a sqrt and a division: its entries are
    then off by (d + 2)·U relative at most, i.e. the unit vector by that much in norm, for each
    of the two vectors; their d-term dot product adds d·U. The cosine of unit vectors is at most 1.
    """
    return (3 * d + 4) * U


def norm_error(d: int) -> float:
    """Most the float32 norm of a float32-normalised d-vector can differ from 1."""
    return (2 * d + 4) * U


def assert_unit(x) -> None:
    """Every row of ``x`` [..., d] is a unit vector, to float32's rounding (:func:`norm_error`)."""
    import torch

    torch.testing.assert_close(
        x.norm(dim=-1), torch.ones(x.shape[:-1]), rtol=0, atol=norm_error(x.shape[-1])
    )


def softmax_error(n: int, d: int, largest: float) -> float:
    """Most a float32 cross-entropy or KL over n logits can be off, each logit a scale times a
    d-term dot product, none larger than ``largest``.

    A logit is off by about (d + 1)·U·largest, which exp turns into a relative error of that size;
    the n-term sum, the log and the subtraction add (n + 3)·U·(1 + largest). Both directions (rows
    and columns, or both distributions of a KL) count once each.
    """
    return 2 * ((d + 1) * largest + (n + 3) * (1 + largest)) * U
