"""KV cache aware of the sliding window.

Sliding layers keep only the last `sliding_window` positions, in a ring buffer; full layers
keep every position. Shapes: S slots, Hkv kv heads, hd head dim; key position -1 marks an
empty slot, which attention masks.

Two layouts for full layers:
- growing (the CPU default): filled slots only, grown by doubling; attention reads just
  the filled prefix, so its cost follows the conversation's length.
- static (the GPU default): all `max_positions` slots allocated up front and written at
  slot = position on the device, and attention reads the whole buffer. Shapes never
  change and no step reads a value back to the host, so a decode step can be captured
  in a CUDA graph.
In both, a one-token decode step writes its key into the ring before attending to the ring
(which then holds exactly the window); a multi-token chunk attends to ring + new keys, since
the ring would overwrite keys the chunk's first queries still need.

`snapshot()` / `restore()` let a session go back to an earlier position (multi-turn reuse):
the ring buffers are small, so a snapshot copies them; full layers only need their length.
`forget_last()` takes back one decode step exactly, with no copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.engine.config import ModelConfig
from core.engine.constants import KV_FIRST_CAPACITY


class LayerCache:
    def __init__(self, capacity: int, ring: bool, static: bool, kv_heads: int, head_dim: int, dtype, device):
        self.ring = ring
        self.static = static or ring  # a ring never grows
        self.k = torch.zeros(capacity, kv_heads, head_dim, dtype=dtype, device=device)  # [S, Hkv, hd]
        self.v = torch.zeros_like(self.k)
        self.positions = torch.full((capacity,), -1, dtype=torch.int64, device=device)  # [S], -1: empty
        self.length = 0  # growing full layers: filled slots

    def update(self, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor, limit: int):
        """Stores the new k/v [T, Hkv, hd] at `positions` [T]; returns (keys, values, key positions)
        for the new queries to attend to."""
        k, v = k.to(self.k.dtype), v.to(self.v.dtype)
        if self.ring:
            return self._update_ring(k, v, positions)
        if self.static:
            self._write(positions, k, v, positions)
            return self.k, self.v, self.positions
        end = self.length + len(positions)
        if end > len(self.positions):
            self._grow(min(limit, max(end, 2 * len(self.positions))))
        self.k[self.length:end], self.v[self.length:end] = k, v
        self.positions[self.length:end] = positions
        self.length = end
        return self.k[:end], self.v[:end], self.positions[:end]

    def _update_ring(self, k, v, positions):
        window = len(self.positions)
        if len(positions) == 1:
            self._write(positions % window, k, v, positions)
            return self.k, self.v, self.positions
        keys = torch.cat([self.k, k]), torch.cat([self.v, v]), torch.cat([self.positions, positions])
        keep = slice(max(0, len(positions) - window), None)
        self._write(positions[keep] % window, k[keep], v[keep], positions[keep])
        return keys

    def _write(self, slots: torch.Tensor, k, v, positions) -> None:
        self.k.index_copy_(0, slots, k)
        self.v.index_copy_(0, slots, v)
        self.positions.index_copy_(0, slots, positions)

    def _grow(self, capacity: int) -> None:
        old = len(self.positions)
        for name in ("k", "v"):
            tensor = getattr(self, name)
            grown = torch.zeros((capacity, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
            grown[:old] = tensor
            setattr(self, name, grown)
        positions = torch.full((capacity,), -1, dtype=torch.int64, device=self.positions.device)
        positions[:old] = self.positions
        self.positions = positions

    def truncate(self, length: int) -> None:
        """Forgets every position from `length` on (full layers)."""
        if self.static:
            self.positions[length:] = -1
        self.length = length


@dataclass(frozen=True)
class Snapshot:
    position: int
    rings: tuple  # per layer: (k, v, positions) clones for ring layers, None for full layers


class KVCache:
    def __init__(self, config: ModelConfig, dtype, device, max_positions: int | None = None,
                 static: bool | None = None):
        device = torch.device(device)
        self.limit = max_positions or config.context_length
        self.static = device.type == "cuda" if static is None else static
        full = self.limit if self.static else min(self.limit, KV_FIRST_CAPACITY)
        self.layers = [
            LayerCache(min(config.sliding_window, self.limit) if config.is_sliding(i) else full,
                       config.is_sliding(i), self.static, config.num_key_value_heads, config.head_dim, dtype, device)
            for i in range(config.num_hidden_layers)
        ]
        self.position = 0

    def snapshot(self) -> Snapshot:
        rings = tuple((c.k.clone(), c.v.clone(), c.positions.clone()) if c.ring else None for c in self.layers)
        return Snapshot(self.position, rings)

    def restore(self, snapshot: Snapshot) -> None:
        for cache, ring in zip(self.layers, snapshot.rings, strict=True):
            if ring is None:
                cache.truncate(snapshot.position)
            else:
                cache.k.copy_(ring[0])
                cache.v.copy_(ring[1])
                cache.positions.copy_(ring[2])
        self.position = snapshot.position

    def forget_last(self) -> None:
        """Takes back the last decode step (one position), exactly: the position's slots are
        marked empty again. Its ring write replaced the key `sliding_window` positions back,
        which no query from this position on can see, so nothing needed is lost (the device
        decode loop feeds one token before it knows whether the reader wants it). Device ops
        only: no value is read back to the host."""
        last = self.position - 1
        for cache in self.layers:
            if cache.ring:
                cache.positions.masked_fill_(cache.positions >= last, -1)
            else:
                cache.truncate(last)
        self.position = last

    def nbytes(self) -> int:
        return sum(c.k.nbytes + c.v.nbytes + c.positions.nbytes for c in self.layers)
