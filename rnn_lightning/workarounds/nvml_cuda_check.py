"""Workaround: whether CUDA is available, which PyTorch's optimizers ask at every step, answered cheaply
where no GPU is, by removing an environment variable that Lightning sets process-wide.

Upstream: Lightning sets it since https://github.com/Lightning-AI/pytorch-lightning/pull/15110, on
PyTorch's option from https://github.com/pytorch/pytorch/pull/85951; no issue found about the answer
going uncached. Checked on Lightning 2.6.6 and PyTorch 2.14.1. Test:
tests/workarounds/test_workarounds.py checks
that PyTorch still keeps no answer; when it caches one, this can go.

Lightning sets `PYTORCH_NVML_BASED_CUDA_CHECK=1` so that asking does not initialise CUDA, which would
spoil forked workers. `torch.cuda.is_available()` then loads NVML anew at every call and keeps no answer
until CUDA is initialised, which on a machine without a GPU never happens; `torch.optim` asks at every
step (its graph-capture check): its cost a step is measured by `python benchmarks/overhead.py`.
"""

import os

import torch

NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


def drop_nvml_check_without_gpus() -> bool:
    """Removes Lightning's NVML variable where PyTorch is built with CUDA but sees no GPU: there is no CUDA
    to keep uninitialised, and the CUDA runtime then answers (the same False). Returns whether it did."""
    if os.environ.get(NVML_CHECK) != "1" or not torch.backends.cuda.is_built():
        return False
    if torch.cuda.device_count() > 0:
        return False
    del os.environ[NVML_CHECK]
    return True
