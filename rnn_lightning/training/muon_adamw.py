"""Muon for the LSTM's recurrent matrices, AdamW for every other parameter, as one optimizer.

Muon takes 2-D parameters only, and LightningCLI builds one optimizer from `params`, so this class splits
them: a matrix with both sides of at least `muon_min_side` (an LSTM 128's `weight_hh`, 512x128) gets
Muon's update (Nesterov momentum, orthogonalised by Newton-Schulz, scaled to AdamW's size as
`torch.optim.Muon`'s "match_rms_adamw" does), so one learning rate and one one-cycle schedule serve both;
the input matrix (512x28), the biases and the head go to `torch.optim.AdamW`. One `state` and one list of
`param_groups` hold both, so Lightning's checkpoints save and restore them and a scheduler sets every
group's rate. Muon's step is written here rather than taken from `torch.optim.Muon` because that one
always orthogonalises in bf16 (PyTorch 2.14), which on a CPU without bf16 matrix units costs several
whole training steps (benchmarks/muon_step.py); in bf16 this step equals it bit for bit
(tests/training/test_muon_adamw.py). Chosen for the speedrun over seeds: docs/time_to_accuracy.md.
"""

import math
from collections.abc import Iterable
from typing import Literal

import torch
from torch import Tensor
from typing_extensions import override

from rnn_lightning.training.cpu_precision import cpu_bf16

NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)  # torch.optim.Muon's quintic coefficients, five steps
NewtonSchulzDtype = Literal["auto", "bfloat16", "float32"]


def fast_bf16_matmul(device: torch.device) -> bool:
    """Whether bf16 is this device's fast arithmetic, as `precision: auto` decides it: a CUDA GPU with
    bf16, or a CPU whose oneDNN runs bf16 on AMX or AVX-512 BF16 (cpu_precision.py). Elsewhere bf16
    products are converted in software or, without AVX-512, computed by PyTorch without oneDNN."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_bf16() == "fast"


def orthogonalized(matrix: Tensor, dtype: torch.dtype, steps: int = 5, eps: float = 1e-7) -> Tensor:
    """`matrix` with its singular values pushed near 1 by Newton-Schulz, computed in `dtype` (the same
    operations as `torch.optim.Muon`'s)."""
    a, b, c = NEWTON_SCHULZ
    tall = matrix.size(0) > matrix.size(1)
    x = matrix.to(dtype)
    x = x.T if tall else x
    x.div_(x.norm().clamp(min=eps))
    for _ in range(steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


class MuonAdamW(torch.optim.Optimizer):
    """Muon (Nesterov momentum `muon_momentum`, `newton_schulz_steps` steps of Newton-Schulz, as
    `torch.optim.Muon`'s `ns_steps`, in `newton_schulz_dtype`: `auto` is bf16 where bf16 matrix products
    are fast, fp32 elsewhere) on the large matrices, AdamW (`betas`) on the
    rest, both at `lr` and `weight_decay`; `fused`: AdamW's own option (None: PyTorch's choice, on a CPU its
    loop over the tensors; True: one kernel for all of them, on CPU and CUDA)."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.012,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.1,
        muon_momentum: float = 0.95,
        muon_min_side: int = 32,
        newton_schulz_dtype: NewtonSchulzDtype = "auto",
        newton_schulz_steps: int = 5,
        fused: bool | None = None,
    ) -> None:
        params = list(params)
        large = [p.ndim == 2 and min(p.shape) >= muon_min_side for p in params]
        matrices = [p for p, is_large in zip(params, large, strict=True) if is_large]
        rest = [p for p, is_large in zip(params, large, strict=True) if not is_large]
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))
        self.adamw = torch.optim.AdamW(rest, lr=lr, betas=betas, weight_decay=weight_decay, fused=fused)
        self.param_groups = list(self.adamw.param_groups)
        if matrices:  # a model too small to have such a matrix (a test's LSTM 16) is all AdamW's
            # betas only for one-cycle, which cycles beta1 in every group; Muon keeps its own momentum
            muon = dict(lr=lr, betas=betas, weight_decay=weight_decay, momentum=muon_momentum)
            self.param_groups.append(dict(params=matrices, **muon))
        self.newton_schulz_dtype, self.newton_schulz_steps = newton_schulz_dtype, newton_schulz_steps
        self._dtypes: dict[torch.device, torch.dtype] = {}  # `auto` decided once a device
        self._hand_in()

    def _hand_in(self) -> None:
        """Makes AdamW use this optimizer's groups and state (after building, and after loading, which
        replaces both)."""
        self.adamw.param_groups = self.param_groups[: len(self.adamw.param_groups)]
        self.adamw.state = self.state

    @property
    def muon_groups(self) -> list[dict]:
        """The groups Muon updates: the large matrices."""
        return self.param_groups[len(self.adamw.param_groups) :]

    @override
    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._hand_in()

    def _dtype(self, device: torch.device) -> torch.dtype:
        """The dtype Newton-Schulz runs in for a matrix on `device`."""
        if device not in self._dtypes:
            asked = self.newton_schulz_dtype
            bf16 = asked == "bfloat16" or (asked == "auto" and fast_bf16_matmul(device))
            self._dtypes[device] = torch.bfloat16 if bf16 else torch.float32
        return self._dtypes[device]

    @override
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.adamw.step()
        for group in self.muon_groups:
            lr, momentum = group["lr"], group["momentum"]
            for param in (p for p in group["params"] if p.grad is not None):
                state = self.state[param]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(param.grad)
                state["momentum_buffer"].lerp_(param.grad, 1 - momentum)
                nesterov = param.grad.lerp(state["momentum_buffer"], momentum)
                update = orthogonalized(nesterov, self._dtype(param.device), self.newton_schulz_steps)
                param.mul_(1 - lr * group["weight_decay"])
                param.add_(update, alpha=-lr * (0.2 * math.sqrt(max(param.shape))))  # AdamW's size
        return loss
