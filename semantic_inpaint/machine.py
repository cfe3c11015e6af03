"""What machine a figure came from: the GPU's name, or the CPU's model and torch's thread count.

Benchmarks print it beside their figures, and the demo records it beside its pick, because a
seeded search repeats exactly only on the same kind of device (docs/performance.md). And whether
this CPU computes bf16 natively, which decides whether `precision="bf16"` can pay on it."""

from __future__ import annotations

import platform

import torch


def describe(device: torch.device | str = "cpu") -> str:
    """E.g. 'NVIDIA H100 80GB HBM3, TF32 on' or 'Intel(R) Xeon(R) Processor, 2 threads'."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, TF32 {'on' if torch.backends.cudnn.allow_tf32 else 'off'}"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):  # not Linux, or a CPU that names no model
        model = platform.processor() or platform.machine()
    return f"{model}, {torch.get_num_threads()} threads"


def cpu_computes_bf16() -> bool:
    """False where oneDNN reports no bf16 support on this CPU (no AVX-512), where bf16 convolutions
    run on much slower code paths: `fast`'s search took 577 s in bf16 against 14 s in fp32 on such a
    CPU (a 2-core AMD EPYC with AVX2 only, docs/performance.md). True where it reports support, and
    where torch cannot tell (the check is a torch-internal op)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True
