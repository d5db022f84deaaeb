"""Loads a model onto a device and runs it: `load_model`, `Model`, `Session`.

The `Transformer` stays pure; this file owns device state: where the weights live, the
compute dtype, the backend's workspaces, and each session's KV cache.

A session is fed two ways. `feed` returns the logits on the processor, for the token loop of
core/engine/token_loop.py and everything that reads them (grammar masks, logit bias,
logprobs). `feed_on_device` and `step_on_device` leave ids and logits on the model's device,
for core/engine/device_loop.py, which samples there and never waits for the GPU between
tokens; with `Model.cuda_graphs` the steps replay a CUDA graph (core/engine/cuda_graphs.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path

import torch

try:
    import psutil
except ImportError:  # bench/gpu_check.py runs the engine on a GPU machine with torch and Triton alone
    psutil = None

from core.engine.backends import BACKENDS, default_backend, make_ops
from core.engine.checkpoint import Weights, read_checkpoint
from core.engine.config import ModelConfig
from core.engine.constants import PREFILL_CHUNK
from core.engine.cuda_graphs import DecodeStep, GraphedDecodeStep
from core.engine.kv_cache import KVCache, Snapshot
from core.engine.memory_plan import device_context
from core.engine.transformer import Transformer
from core.errors import Cancelled, ContextOverflow, InvalidInput, MemoryTight, NotEnoughMemory
from core.units import size_text

MAX_MARKS = 4           # restore points a session keeps (each copies the sliding layers' rings, ~3 MB on 20b)
_LOGITS_ROWS = 1024     # lm_head rows per step in `Model.logits`
# "1" turns CUDA graphs on where load_model is not told. Off by default until bench/gpu_check.sh
# has passed on a real GPU: the graphed path has run only on the processor's stand-ins so far.
CUDA_GRAPHS_VARIABLE = "HEARTH_CUDA_GRAPHS"


@dataclass(frozen=True)
class LoadProgress:
    """How far `load_model` is: bytes of weights placed (GPU) or read into memory (CPU preload)."""

    done_bytes: int
    total_bytes: int

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 1.0


def load_model(path: str | Path, device: str = "cpu", *, dtype: torch.dtype | None = None,
               backend: str | None = None, context_length: int | None = None,
               preload: bool = False, progress: Callable[[LoadProgress], None] | None = None,
               cancel: threading.Event | None = None, load_anyway: bool = False,
               cuda_graphs: bool | None = None) -> Model:
    """Opens the model folder at `path` (either published format) on `device`.

    CPU weights stay memory-mapped from the files; the MXFP4 experts are never unpacked
    as a whole. `dtype` is the compute dtype (bfloat16 by default, as the model was trained).
    `backend`: "torch" or "triton" (the default on a CUDA GPU). On a GPU the memory plan
    (core.engine.memory_plan) grants `context_length` tokens (default: as many as fit, up to the
    model's) or refuses with NotEnoughMemory before allocating; `config.context_length`
    then says what was granted.

    `preload` reads a CPU model's files into memory now, so the first answer does not wait
    on the disk. `progress` is called as weights are placed or read; setting `cancel` stops
    the load between two tensors (raises Cancelled).

    On the processor the model must fit the computer's memory (else NotEnoughMemory) and what is
    free right now (else MemoryTight, unless `load_anyway`: the system then pages the weights in
    from the disk as they are used, which can make answers very slow).

    `cuda_graphs` (default: the environment variable HEARTH_CUDA_GRAPHS, "1" for on, else off)
    lets sessions decode on the device from a captured CUDA graph; it takes effect only on a
    CUDA GPU with the triton backend (`Model.cuda_graphs` says whether it did).
    """
    device = torch.device(device)
    notice = None
    if backend is None:
        backend = default_backend(device)
        if device.type == "cpu" and backend == "torch":
            from kernels import _cpu

            if _cpu.available() is None:
                notice = _cpu.describe()  # why the compiled kernels are not used, and what it costs
    if backend not in BACKENDS:
        raise InvalidInput(f"Unknown compute backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    config, weights = read_checkpoint(path)
    size = checkpoint_bytes(weights)
    if device.type == "cpu":
        _check_ram(size, load_anyway)  # on a GPU the memory plan (device_context) refuses, against free memory
    dtype = dtype or torch.bfloat16
    config = config.replace(max_position_embeddings=device_context(config, device, dtype, backend, context_length))
    ops = make_ops(backend, weights.layers[0].moe.experts, dtype, device)
    mover = _Mover(device, dtype, size, preload and device.type == "cpu", progress, cancel)
    weights = mover.place(weights)
    return Model(Transformer(config, weights, ops, dtype, device), Path(path), notice,
                 cuda_graphs=cuda_graphs_wanted(cuda_graphs))


def cuda_graphs_wanted(asked: bool | None) -> bool:
    """`load_model`'s cuda_graphs: as asked, else HEARTH_CUDA_GRAPHS=1 (anything else: off)."""
    return os.environ.get(CUDA_GRAPHS_VARIABLE, "") == "1" if asked is None else asked


def checkpoint_bytes(weights: Weights) -> int:
    return sum(t.nbytes for t in _tensors(weights))


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif is_dataclass(obj):
        for f in fields(obj):
            yield from _tensors(getattr(obj, f.name))
    elif isinstance(obj, tuple):
        for item in obj:
            yield from _tensors(item)


def _check_ram(need: int, load_anyway: bool = False) -> None:
    if psutil is None:
        return  # not installed: nothing to ask (the product always has it)
    memory = psutil.virtual_memory()
    if need > memory.total:
        raise NotEnoughMemory(
            f"This model needs {size_text(need)} but the computer has only {size_text(memory.total)} of "
            "memory (RAM). Choose a smaller model, or use a machine with more memory.")
    # `available` counts the page cache the system can hand back, so a model read before counts as free.
    if need > memory.available and not load_anyway:
        raise MemoryTight(
            f"This model needs {size_text(need)} of memory, but only {size_text(memory.available)} of the "
            f"computer's {size_text(memory.total)} is free right now. Close other programs and try again, "
            "or load it anyway: it would then be read from the disk as it runs, and answers could be very slow.")


class _Mover:
    """Places weights on the device: float tensors in (device, dtype), packed uint8 weights
    only moved. CPU tensors already in `dtype` stay views of the memory-mapped files; with
    `preload`, one byte per page is read so the kernel brings each page into memory."""

    _PAGE = 4096

    def __init__(self, device, dtype, total: int, preload: bool, progress, cancel):
        self.device, self.dtype, self.total, self.preload = device, dtype, total, preload
        self.progress, self.cancel = progress, cancel
        self.done = 0

    def place(self, obj):
        if isinstance(obj, torch.Tensor):
            return self._tensor(obj)
        if is_dataclass(obj):
            return replace(obj, **{f.name: self.place(getattr(obj, f.name)) for f in fields(obj)})
        if isinstance(obj, tuple):
            return tuple(self.place(item) for item in obj)
        return obj

    def _tensor(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("Loading the model was stopped.")
        size = tensor.nbytes
        if tensor.is_floating_point():
            tensor = tensor.to(device=self.device, dtype=self.dtype)
        else:
            tensor = tensor.to(device=self.device)
        if self.preload and tensor.numel():
            flat = tensor.view(-1).view(torch.uint8) if tensor.is_contiguous() else tensor.reshape(-1)
            int(flat[:: self._PAGE].sum())
        self.done += size
        if self.progress is not None:
            self.progress(LoadProgress(self.done, self.total))
        return tensor


class Model:
    def __init__(self, transformer: Transformer, path: Path, notice: str | None = None, *,
                 cuda_graphs: bool = False):
        self.transformer = transformer
        self.path = path
        # A sentence for the person when the model runs slower than it could (no compiled kernels).
        self.notice = notice
        # Decode on the device from CUDA graphs: asked for, and possible here. When True, a
        # caller generates through core/engine/device_loop.py (its docstring says how).
        self.cuda_graphs = cuda_graphs and transformer.device.type == "cuda" and transformer.ops.graph_safe
        # The backend's workspaces (e.g. the MXFP4 decode buffer) are shared by every session
        # of this model: one forward at a time. Sessions interleave between chunks and tokens.
        self._forward_lock = threading.Lock()

    @property
    def config(self) -> ModelConfig:
        return self.transformer.config

    @property
    def device(self) -> torch.device:
        return self.transformer.device

    def logits(self, token_ids) -> torch.Tensor:
        """float32 [T, V]: a full causal forward over `token_ids`, with no cache."""
        ids = _check_ids(token_ids, self.config, 0)
        with self._forward_lock, torch.inference_mode():
            positions = torch.arange(len(ids), device=self.device)
            hidden = self.transformer.forward(ids.to(self.device), positions, cache=None)
            out = torch.empty(len(ids), self.config.vocab_size, dtype=torch.float32)
            for start in range(0, len(ids), _LOGITS_ROWS):
                out[start:start + _LOGITS_ROWS] = self.transformer.unembed(hidden[start:start + _LOGITS_ROWS]).cpu()
        return out

    def new_session(self, max_tokens: int | None = None, *, static_cache: bool | None = None) -> Session:
        """A conversation state with its own KV cache, for up to `max_tokens` (default: the context).
        `static_cache` (default: on CUDA) preallocates it for CUDA-graph capture (core.engine.kv_cache)."""
        limit = min(max_tokens or self.config.context_length, self.config.context_length)
        return Session(self.transformer, limit, static_cache, self._forward_lock,
                       cuda_graphs=self.cuda_graphs and static_cache is not False)


class Session:
    """Feeds tokens through the model, keeping their keys and values for the next ones.

    `tokens` holds what the session has taken in; a device step not yet confirmed is not
    among them (see `step_on_device`)."""

    def __init__(self, transformer: Transformer, max_tokens: int, static_cache: bool | None = None,
                 forward_lock: threading.Lock | None = None, *, cuda_graphs: bool = False):
        self.transformer = transformer
        self._forward_lock = forward_lock or threading.Lock()
        self.max_tokens = max_tokens
        self.cache = KVCache(transformer.config, transformer.dtype, transformer.device, max_tokens, static_cache)
        self.tokens: list[int] = []
        self.cuda_graphs = cuda_graphs
        self._marks: list[Snapshot] = []
        self._lock = threading.Lock()
        self._step: DecodeStep | None = None
        self._pending = False  # a device step is in the cache whose token is not in `tokens` yet

    @property
    def position(self) -> int:
        return len(self.tokens)

    def feed(self, token_ids) -> torch.Tensor:
        """float32 [V]: the logits after the last of `token_ids`, which extend the session."""
        return self._feed(token_ids, pinned=False).cpu()

    def feed_on_device(self, token_ids) -> torch.Tensor:
        """`feed` with the logits left on the model's device (float32 [V]): the prompt goes up
        in one copy and nothing comes back, so the host never waits for the GPU here."""
        return self._feed(token_ids, pinned=True)

    def extend(self, token_ids) -> None:
        """`feed` without the logits, for a prompt's body whose logits nobody reads: no lm_head
        (a 1.16 GB read on gpt-oss-20b) and no copy back to the host. A prefill fed chunk by
        chunk (core/chat/generate.py's `prefill`) pays both per chunk through `feed`."""
        self._feed(token_ids, pinned=True, logits=False)

    def _feed(self, token_ids, pinned: bool, logits: bool = True) -> torch.Tensor | None:
        ids = _check_ids(token_ids, self.transformer.config, self.position)
        if self.position + len(ids) > self.max_tokens:
            raise ContextOverflow(
                f"The conversation is too long for this model: {self.position + len(ids)} tokens, "
                f"but it can keep at most {self.max_tokens} in mind. Start a new chat or shorten the message.")
        t = self.transformer
        device = t.device
        with self._lock, torch.inference_mode():
            self._take_back_pending()
            # One upload; from pinned memory it does not wait for the GPU to finish its work.
            on_device = (ids.pin_memory() if pinned and device.type == "cuda" else ids).to(device, non_blocking=pinned)
            for start in range(0, len(ids), PREFILL_CHUNK):
                chunk = on_device[start:start + PREFILL_CHUNK]
                positions = torch.arange(self.position, self.position + len(chunk), device=device)
                with self._forward_lock:
                    x = t.blocks(chunk, positions, self.cache)               # [T, D]
                self.cache.position += len(chunk)
                self.tokens.extend(ids[start:start + PREFILL_CHUNK].tolist())  # the host's copy: no read-back
            return t.unembed(t.final_norm(x[-1:]))[0] if logits else None    # only the last row's logits

    def step_on_device(self, token: torch.Tensor) -> torch.Tensor:
        """One decode step for `token`, an id already on the model's device ([1] or 0-dim int64)
        whose value the host need not know: float32 [V] logits on the device, in a buffer the
        next step overwrites. The step stays pending until `confirm` names its token; any other
        call first takes it back (exactly: KVCache.forget_last), as if it had never been fed."""
        with self._lock, torch.inference_mode():
            self._take_back_pending()
            if self.position + 1 > self.max_tokens:
                raise ContextOverflow(f"The conversation has filled the {self.max_tokens} tokens this session "
                                      "keeps in mind. Start a new chat to go on.")
            step = self._decode_step()
            with self._forward_lock:
                logits = step(token, self.cache.position)
            self.cache.position += 1
            self._pending = True
            return logits

    def confirm(self, token_id: int) -> None:
        """Keeps the pending device step: its token, now read by the host, joins `tokens`."""
        with self._lock:
            if not self._pending:
                raise RuntimeError("no device step is pending: it was taken back, or never made")
            self.tokens.append(int(token_id))
            self._pending = False

    def take_back(self) -> None:
        """Undoes the pending device step, if any (the reader did not want its token)."""
        with self._lock:
            self._take_back_pending()

    def _take_back_pending(self) -> None:
        if self._pending:
            self.cache.forget_last()
            self._pending = False

    def _decode_step(self) -> DecodeStep:
        # One per cache: a graph holds the addresses of the cache it was captured on.
        if self._step is None or self._step.cache is not self.cache:
            self._step = (GraphedDecodeStep if self.cuda_graphs else DecodeStep)(self.transformer, self.cache)
        return self._step

    def mark(self) -> None:
        """Remembers the current position, so `rewind` can come back to it later."""
        with self._lock:
            self._take_back_pending()
            self._marks = [m for m in self._marks if m.position < self.position][-(MAX_MARKS - 1):]
            self._marks.append(self.cache.snapshot())

    def rewind(self, n: int) -> int:
        """Goes back to the latest restorable position <= n (a mark, or the start) and returns it."""
        with self._lock:
            self._take_back_pending()
            if n >= self.position:
                return self.position
            self._marks = [m for m in self._marks if m.position <= n]
            if self._marks:
                self.cache.restore(self._marks[-1])
            else:
                self.cache = KVCache(self.transformer.config, self.transformer.dtype,
                                     self.transformer.device, self.max_tokens, self.cache.static)
            del self.tokens[self.cache.position:]
            return self.cache.position


def _check_ids(token_ids, config: ModelConfig, start: int) -> torch.Tensor:
    ids = torch.as_tensor(token_ids)
    if ids.numel() == 0:
        raise InvalidInput("There is nothing to process: the input has no tokens.")
    if ids.dim() != 1 or ids.dtype in (torch.bool,) or ids.is_floating_point():
        raise InvalidInput("Token ids must be a flat list of whole numbers.")
    ids = ids.to(torch.int64)
    if (int(ids.min()) < 0 or int(ids.max()) >= config.vocab_size):
        bad = int(ids.min()) if int(ids.min()) < 0 else int(ids.max())
        raise InvalidInput(f"Token id {bad} is outside this model's vocabulary (0 to {config.vocab_size - 1}).")
    if start + len(ids) > config.context_length:
        raise ContextOverflow(
            f"The text is too long for this model: {start + len(ids)} tokens, but its context holds "
            f"{config.context_length}. Shorten the message or start a new chat.")
    return ids
