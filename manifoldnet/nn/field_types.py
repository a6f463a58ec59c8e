"""``FieldType``: which SO(2) irreps a gauge-equivariant feature tensor carries, and how it is laid out.

``FieldType([m_0, m_1, ..., m_L])`` holds ``m_n`` copies of the irrep ``rho_n``. A real ``(V, C)`` tensor of
this type has ``C = m_0 + 2 (m_1 + ... + m_L)`` channels in blocks of increasing order ``n``:

- the ``rho_0`` block: ``m_0`` real channels (scalars: unchanged by a gauge change);
- a ``rho_n`` block (n >= 1): ``m_n`` pairs ``(re, im)`` (interleaved: ``re_1, im_1, re_2, im_2, ...``) of
  complex coefficients ``z`` that a gauge change ``g`` (one angle per vertex) maps to ``exp(-1j n g) z``.

``rho_1`` coefficients are tangent vectors in the vertex gauge (``z = v . e1 + 1j v . e2`` with the frame
rows ``(e1, e2, n)`` of the bundle's ``frames``), so :meth:`FieldType.to_world` / :meth:`FieldType.from_world`
convert them to and from world vectors ``(V, m_1, 3)``.
"""

from __future__ import annotations

import torch

__all__ = ["FieldType"]


class FieldType:
    """Multiplicities ``(m_0, ..., m_L)`` of the SO(2) irreps ``rho_0 .. rho_L`` (see the module docstring).

    Trailing zero multiplicities are dropped (``FieldType([3, 0])`` is ``FieldType([3])``); two field types
    are equal when their multiplicities are. ``size`` is the channel count ``C``.
    """

    def __init__(self, multiplicities):
        if isinstance(multiplicities, FieldType):
            multiplicities = multiplicities.multiplicities
        try:
            ms = [int(m) for m in multiplicities]
            if any(int(m) != m for m in multiplicities):
                raise TypeError
        except (TypeError, ValueError):
            raise ValueError(
                f"FieldType takes a list of non-negative integer multiplicities [m_0, ..., m_L], "
                f"got {multiplicities!r}"
            ) from None
        if any(m < 0 for m in ms):
            raise ValueError(f"FieldType multiplicities must be >= 0, got {ms}")
        while ms and ms[-1] == 0:
            ms.pop()
        if not ms:
            raise ValueError("FieldType needs at least one channel (all multiplicities are zero)")
        self.multiplicities: tuple[int, ...] = tuple(ms)

    # ------------------------------------------------------------------ layout
    @property
    def max_order(self) -> int:
        """L: the highest order ``n`` present."""
        return len(self.multiplicities) - 1

    @property
    def orders(self) -> tuple[int, ...]:
        """The orders ``n`` with ``m_n > 0``, increasing."""
        return tuple(n for n, m in enumerate(self.multiplicities) if m > 0)

    def multiplicity(self, n: int) -> int:
        """``m_n`` (0 beyond ``max_order``)."""
        return self.multiplicities[n] if 0 <= n < len(self.multiplicities) else 0

    @property
    def size(self) -> int:
        """Real channels C = m_0 + 2 * (m_1 + ... + m_L)."""
        return self.multiplicities[0] + 2 * sum(self.multiplicities[1:])

    def slice(self, n: int) -> slice:
        """The channels of the ``rho_n`` block (empty when ``m_n = 0``)."""
        start = sum(m * (1 if k == 0 else 2) for k, m in enumerate(self.multiplicities[:n]))
        return slice(start, start + self.multiplicity(n) * (1 if n == 0 else 2))

    @property
    def is_scalar(self) -> bool:
        """Only ``rho_0`` (gauge invariant)."""
        return self.max_order == 0

    def __eq__(self, other) -> bool:
        return isinstance(other, FieldType) and other.multiplicities == self.multiplicities

    def __hash__(self) -> int:
        return hash(self.multiplicities)

    def __repr__(self) -> str:
        return f"FieldType({list(self.multiplicities)})"

    # -------------------------------------------------------------- validation
    def check(self, x, who: str = "layer") -> None:
        """ValueError unless ``x`` is a real floating (N, C) tensor with ``C = self.size``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2:
            raise ValueError(
                f"{who}: x must be a (V, C) tensor of {self}, got {getattr(x, 'shape', type(x))}"
            )
        if not x.is_floating_point():
            raise ValueError(f"{who}: x must be a real floating tensor of {self}, got dtype {x.dtype}")
        if x.shape[1] != self.size:
            raise ValueError(
                f"{who}: x has {x.shape[1]} channels but {self} has {self.size} "
                f"(m_0 + 2 * (m_1 + ... + m_L) = {self._size_text()})"
            )

    def _size_text(self) -> str:
        return " + ".join(f"{m}" if n == 0 else f"2*{m}" for n, m in enumerate(self.multiplicities))

    # ---------------------------------------------------------- complex views
    def to_complex(self, x, n: int):
        """The ``rho_n`` block of ``x`` (V, C) as a complex (V, m_n) tensor (n >= 1); a real (V, m_0) one for
        n = 0."""
        self.check(x, "FieldType.to_complex")
        block = x[:, self.slice(n)]
        if n == 0:
            return block
        return torch.view_as_complex(block.reshape(x.shape[0], -1, 2).contiguous())

    def from_complex(self, blocks) -> torch.Tensor:
        """Inverse of :meth:`to_complex`: ``blocks`` lists, for each order n = 0 .. L, a (V, m_n) tensor
        (real for n = 0, complex otherwise; None or anything for ``m_n = 0``) -> real (V, C)."""
        if len(blocks) != len(self.multiplicities):
            raise ValueError(
                f"{self}.from_complex needs {len(self.multiplicities)} blocks, got {len(blocks)}"
            )
        parts = []
        for n, (m, b) in enumerate(zip(self.multiplicities, blocks, strict=True)):
            if m == 0:
                continue
            if b.ndim != 2 or b.shape[1] != m:
                raise ValueError(
                    f"{self}.from_complex: block {n} must have {m} columns, got {tuple(b.shape)}"
                )
            if n == 0:
                if b.is_complex():
                    raise ValueError(f"{self}.from_complex: the rho_0 block must be real")
                parts.append(b)
            else:
                if not b.is_complex():
                    raise ValueError(f"{self}.from_complex: the rho_{n} block must be complex")
                parts.append(torch.view_as_real(b).reshape(b.shape[0], 2 * m))
        return torch.cat(parts, dim=1)

    # ------------------------------------------------------------- gauge change
    def transform(self, x, g):
        """``x`` after the gauge change ``g`` (V,): each ``rho_n`` coefficient times ``exp(-1j n g)``."""
        self.check(x, "FieldType.transform")
        g = torch.as_tensor(g, dtype=x.dtype, device=x.device)
        if g.shape != (x.shape[0],):
            raise ValueError(f"FieldType.transform: g must have shape ({x.shape[0]},), got {tuple(g.shape)}")
        blocks = [self.to_complex(x, 0)]
        for n in range(1, len(self.multiplicities)):
            z = self.to_complex(x, n)
            blocks.append(z * torch.polar(torch.ones_like(g), -n * g)[:, None])
        return self.from_complex(blocks)

    def representation(self, angle):
        """``rho(angle)`` as real matrices (P, C, C) for angles (P,): block diagonal, the identity on
        ``rho_0`` and the rotation by ``n * angle`` on each ``(re, im)`` pair of ``rho_n`` (multiplication by
        ``exp(1j n angle)``). A gauge change ``g`` is ``x -> rho(-g) x``; transport is ``rho(rho_ij)``."""
        angle = torch.as_tensor(angle)
        out = angle.new_zeros((*angle.shape, self.size, self.size))
        s0 = self.slice(0)
        idx = torch.arange(s0.start, s0.stop, device=angle.device)
        out[..., idx, idx] = 1.0
        for n in range(1, len(self.multiplicities)):
            s = self.slice(n)
            c, si = torch.cos(n * angle)[..., None], torch.sin(n * angle)[..., None]
            re = torch.arange(s.start, s.stop, 2, device=angle.device)
            out[..., re, re] = c
            out[..., re + 1, re + 1] = c
            out[..., re, re + 1] = -si
            out[..., re + 1, re] = si
        return out

    # ------------------------------------------------------- tangent vectors
    def to_world(self, x, frames):
        """The ``rho_1`` block of ``x`` as world vectors (V, m_1, 3): ``re * e1 + im * e2`` with ``frames``
        (V, 3, 3) rows ``(e1, e2, n)`` (the bundle's ``frames`` field)."""
        if self.multiplicity(1) == 0:
            raise ValueError(f"{self} has no rho_1 block to turn into world vectors")
        _check_frames(frames, x.shape[0], "FieldType.to_world")
        z = self.to_complex(x, 1)
        return z.real[..., None] * frames[:, None, 0, :] + z.imag[..., None] * frames[:, None, 1, :]

    @staticmethod
    def from_world(vectors, frames):
        """World vectors (V, 3) or (V, m, 3) -> the complex rho_1 coefficients (V, m) of their tangent parts
        (the normal component is dropped): ``z = v . e1 + 1j v . e2``. Use :meth:`from_complex` to place
        them in a feature tensor."""
        v = vectors if vectors.ndim == 3 else vectors[:, None, :]
        if v.ndim != 3 or v.shape[-1] != 3:
            raise ValueError(f"from_world: vectors must be (V, 3) or (V, m, 3), got {tuple(vectors.shape)}")
        _check_frames(frames, v.shape[0], "FieldType.from_world")
        re = (v * frames[:, None, 0, :]).sum(-1)
        im = (v * frames[:, None, 1, :]).sum(-1)
        return torch.complex(re, im)


def _check_frames(frames, V: int, who: str) -> None:
    if frames is None:
        raise ValueError(f"{who} needs the bundle field 'frames' (OperatorSpec(fields=(..., 'frames')))")
    if tuple(frames.shape) != (V, 3, 3):
        raise ValueError(f"{who}: frames must be (V, 3, 3) = ({V}, 3, 3), got {tuple(frames.shape)}")
