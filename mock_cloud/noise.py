"""Counter-based deterministic randomness.

Metrics, spot prices and interruptions must be the same for the same seed whatever order or window they are
asked in, so values are hashed from (seed, key, time bucket) instead of drawn from a stateful generator.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
F32 = npt.NDArray[np.float32]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_FIELD_BITS = 21
_FIELD_MASK = np.uint64((1 << _FIELD_BITS) - 1)


def splitmix64(x: U64) -> U64:
    """SplitMix64's finaliser: a fast, well-mixed bijection on uint64 (wraps on purpose)."""
    z = x + _GOLDEN  # a fresh array; the steps below update it in place to spare large temporaries
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def hash_grid(seed: int, keys: U64, buckets: npt.NDArray[np.int64]) -> U64:
    """One 64-bit hash per (key, bucket): shape (len(keys), len(buckets))."""
    salted = splitmix64(keys.astype(np.uint64) ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF))
    return splitmix64(salted[:, None] ^ splitmix64(buckets.astype(np.uint64))[None, :])


def unit_field(hashes: U64, field: int) -> F32:
    """The `field`-th (0, 1 or 2) 21-bit slice of each hash as a uniform float in [0, 1).

    Three independent uniforms come out of each 64-bit hash, so one hash pass feeds CPU, memory and bursts.
    """
    shifted = (hashes >> np.uint64(field * _FIELD_BITS)) & _FIELD_MASK
    return (shifted.astype(np.float32) + np.float32(0.5)) / np.float32(1 << _FIELD_BITS)


def normal_field(hashes: U64, field: int) -> F32:
    """An approximately standard-normal value per hash (sum of two uniforms, rescaled; bounded at ±2.45).

    Uses slices `field` and `field + 1` (mod 3); the two are added as integers, then converted once.
    """
    a = (hashes >> np.uint64(field * _FIELD_BITS)) & _FIELD_MASK
    a += (hashes >> np.uint64(((field + 1) % 3) * _FIELD_BITS)) & _FIELD_MASK
    scale = np.float32(2.449 / (1 << _FIELD_BITS))
    return (a.astype(np.float32) + np.float32(1.0)) * scale - np.float32(2.449)
