"""Which device and precision a run uses, and a sentence that says why.

Rules (measured, not guessed):
- CUDA: bf16 autocast where the card supports it, else fp16 with a gradient scaler.
- CPU: bf16 autocast only with AMX tiles. On CPUs with AVX512-BF16 but no AMX, bf16 *training* measured
  no faster than fp32 here (the backward pass falls back to fp32 kernels), so auto stays on fp32.
- MPS: fp32; autocast support on MPS is partial.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ner_demo.errors import ConfigError


@dataclass(frozen=True)
class Hardware:
    device: str  # "cpu", "cuda:0", "mps"
    precision: str  # "fp32", "bf16", "fp16"
    n_gpus: int
    description: str

    @property
    def device_type(self) -> str:
        return self.device.split(":")[0]

    @property
    def autocast_dtype(self):
        import torch

        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)


def cpu_flags() -> set[str]:
    """The CPU feature flags from /proc/cpuinfo (empty off Linux: then we assume nothing)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _mps_available() -> bool:
    import torch

    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def gpu_like_available() -> bool:
    """A CUDA GPU or Apple MPS: what ``device=auto`` would pick over the CPU."""
    import torch

    return torch.cuda.is_available() or _mps_available()


def choose(device: str = "auto", precision: str = "auto", local_rank: int = 0) -> Hardware:
    """Resolve ``device`` and ``precision`` (``auto`` or explicit) for this process.

    ``local_rank`` picks the GPU of this process under ``accelerate launch``/``torchrun``.
    """
    import torch

    n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = _mps_available()
    seen = f"{n_gpus} CUDA GPU(s)" if n_gpus else "no CUDA GPU"
    seen += ", MPS available" if mps else ", no MPS"
    cores = os.cpu_count() or 1

    if device == "auto":
        device = "cuda" if n_gpus else "mps" if mps else "cpu"
        why_device = "auto"
    else:
        why_device = "requested"
    if device == "cuda":
        if not n_gpus:
            raise ConfigError("device='cuda': no CUDA GPU is visible to torch; use device=auto or cpu")
        device = f"cuda:{local_rank % n_gpus}"
    elif device == "mps" and not mps:
        raise ConfigError("device='mps': MPS is not available on this machine; use device=auto or cpu")

    kind = device.split(":")[0]
    reason = "requested"
    if precision == "auto":
        if kind == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            reason = "the GPU supports bf16" if precision == "bf16" else "the GPU lacks bf16, so fp16 with loss scaling"
        elif kind == "cpu" and "amx_bf16" in cpu_flags():
            precision, reason = "bf16", "the CPU has AMX bf16 units"
        elif kind == "cpu":
            has_avx = "avx512_bf16" in cpu_flags()
            precision = "fp32"
            reason = (
                "the CPU has AVX512-BF16 but no AMX: bf16 training measured no faster than fp32"
                if has_avx
                else "the CPU has no bf16 units"
            )
        else:
            precision, reason = "fp32", "autocast on MPS is partial"
    if precision == "fp16" and kind != "cuda":
        raise ConfigError(f"precision='fp16' on {kind}: fp16 training needs a CUDA GPU; use bf16 or fp32")

    if kind == "cuda":
        name = torch.cuda.get_device_name(torch.device(device))
        where = f"{device} ({name})"
    else:
        where = f"{device} ({cores} cores, {torch.get_num_threads()} torch threads)" if kind == "cpu" else device
    description = f"device {where} [{why_device}; seen: {seen}]; precision {precision} ({reason})"
    return Hardware(device, precision, n_gpus, description)
