"""The speedrun's optimizer: Muon on the recurrent matrices, AdamW on the rest, saved and restored whole;
its Muon step equal to torch.optim.Muon's in bf16 and in fp32 where bf16 matrix products are slow."""

import copy

import pytest
import torch

from rnn_lightning.training import cpu_precision
from rnn_lightning.training.muon_adamw import MuonAdamW, fast_bf16_matmul
from rnn_lightning.training.precision_choice import auto_precision


def lstm_and_head(hidden: int = 128) -> torch.nn.ModuleList:
    torch.manual_seed(0)
    return torch.nn.ModuleList([torch.nn.LSTM(28, hidden, batch_first=True), torch.nn.Linear(hidden, 10)])


def train(model, optimizers, scheduler, steps: int) -> None:
    optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
    data = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x, y = torch.randn(8, 28, 28, generator=data), torch.randint(0, 10, (8,), generator=data)
        for optimizer in optimizers:
            optimizer.zero_grad()
        out, _ = model[0](x)
        torch.nn.functional.cross_entropy(model[1](out[:, -1]), y).backward()
        for optimizer in optimizers:
            optimizer.step()
        if scheduler is not None:
            scheduler.step()


def one_cycle(optimizer):
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.012, total_steps=20)


def test_muon_takes_the_recurrent_matrix_and_adamw_the_rest():
    model = lstm_and_head()
    optimizer = MuonAdamW(model.parameters())
    assert [p is model[0].weight_hh_l0 for p in optimizer.muon_groups[0]["params"]] == [True]
    assert len(optimizer.adamw.param_groups[0]["params"]) == 5  # weight_ih, two biases, the head's two
    assert optimizer.param_groups == optimizer.adamw.param_groups + optimizer.muon_groups
    assert MuonAdamW(lstm_and_head(16).parameters()).muon_groups == []  # no matrix large enough: all AdamW


@pytest.mark.parametrize("steps", [5, 3])  # torch.optim.Muon's default, and fewer (its `ns_steps`)
def test_in_bf16_it_steps_as_torch_muon_and_adamw_do_bit_for_bit(steps):
    ours, theirs = lstm_and_head(), lstm_and_head()
    optimizer = MuonAdamW(ours.parameters(), newton_schulz_dtype="bfloat16", newton_schulz_steps=steps)
    train(ours, optimizer, None, 4)
    matrix = theirs[0].weight_hh_l0
    muon = torch.optim.Muon(
        [matrix], lr=0.012, weight_decay=0.1, adjust_lr_fn="match_rms_adamw", ns_steps=steps
    )
    rest = [p for p in theirs.parameters() if p is not matrix]
    adamw = torch.optim.AdamW(rest, lr=0.012, betas=(0.9, 0.99), weight_decay=0.1)
    train(theirs, [adamw, muon], None, 4)
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(), strict=True))


def test_in_fp32_it_orthogonalises_otherwise_and_learns():
    bf16, fp32, start = lstm_and_head(), lstm_and_head(), lstm_and_head()
    train(bf16, MuonAdamW(bf16.parameters(), newton_schulz_dtype="bfloat16"), None, 2)
    train(fp32, MuonAdamW(fp32.parameters(), newton_schulz_dtype="float32"), None, 2)
    matrices = bf16[0].weight_hh_l0, fp32[0].weight_hh_l0, start[0].weight_hh_l0
    assert not torch.equal(matrices[0], matrices[1])
    assert (matrices[1] - matrices[2]).abs().max() > 3 * (matrices[0] - matrices[1]).abs().max()  # one step


@pytest.mark.parametrize(
    ("capabilities", "lstm_runs", "fast"),
    [
        ({"architecture": "x86_64", "avx2": True}, False, False),  # AVX2 only: no bf16 kernel in oneDNN
        ({"architecture": "x86_64", "avx2_vnni_2": True}, False, False),  # bf16 forward only (#148861)
        ({"architecture": "x86_64", "avx512f": True}, True, False),  # AVX-512 without bf16: software
        ({"architecture": "x86_64", "avx512f": True, "avx512_bf16": True}, True, True),  # Zen 4, Zen 5
        ({"architecture": "x86_64", "amx_bf16": True}, True, True),  # Intel Xeon, Sapphire Rapids on
        ({"architecture": "aarch64"}, True, False),  # ARM: not measured, fp32
    ],
)
def test_auto_orthogonalises_in_bf16_where_precision_auto_picks_bf16(
    monkeypatch, capabilities, lstm_runs, fast
):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
    monkeypatch.setattr(cpu_precision, "onednn_runs_lstm_in", lambda dtype: lstm_runs)
    assert fast_bf16_matmul(torch.device("cpu")) is fast
    assert (auto_precision("cpu")[0] == "bf16-mixed") is fast  # the same choice as the precision's
    model = lstm_and_head()
    optimizer = MuonAdamW(model.parameters())
    train(model, optimizer, None, 1)
    assert optimizer._dtype(torch.device("cpu")) == (torch.bfloat16 if fast else torch.float32)


@pytest.mark.parametrize("bf16", [True, False])
def test_auto_on_a_cuda_gpu_follows_its_bf16(monkeypatch, bf16):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    assert fast_bf16_matmul(torch.device("cuda", 0)) is bf16


def test_the_schedule_sets_both_and_every_parameter_learns():
    model = lstm_and_head()
    start = copy.deepcopy(model)
    optimizer = MuonAdamW(model.parameters())
    scheduler = one_cycle(optimizer)
    train(model, optimizer, scheduler, 3)
    assert optimizer.muon_groups[0]["lr"] == optimizer.adamw.param_groups[0]["lr"] != 0.012 / 25
    assert all(not torch.equal(a, b) for a, b in zip(model.parameters(), start.parameters(), strict=True))


def test_a_state_saved_midway_and_loaded_continues_exactly():
    straight, resumed = lstm_and_head(), lstm_and_head()
    optimizer = MuonAdamW(straight.parameters())
    scheduler = one_cycle(optimizer)
    train(straight, optimizer, scheduler, 5)
    saved = copy.deepcopy((straight.state_dict(), optimizer.state_dict(), scheduler.state_dict()))
    assert len(saved[1]["state"]) == 6  # AdamW's five parameters and Muon's one: both in the checkpoint
    resumed.load_state_dict(saved[0])
    other = MuonAdamW(resumed.parameters())
    other_scheduler = one_cycle(other)
    other.load_state_dict(saved[1])
    other_scheduler.load_state_dict(saved[2])
    train(straight, optimizer, scheduler, 4)
    train(resumed, other, other_scheduler, 4)
    assert all(torch.equal(a, b) for a, b in zip(straight.parameters(), resumed.parameters(), strict=True))
    assert other.adamw.state is other.state and other.adamw.param_groups[0] is other.param_groups[0]


def test_a_fused_adamw_steps_as_the_loop_does_and_is_restored_fused():
    """`fused: true` (the speedrun's) hands AdamW's part to PyTorch's fused kernel: the same updates to
    rounding (Newton-Schulz in fp32 here, which does not magnify them as bf16 would), and a checkpoint's
    state loads back into a fused one."""
    loop, fused = lstm_and_head(), lstm_and_head()
    train(loop, MuonAdamW(loop.parameters(), newton_schulz_dtype="float32"), None, 4)
    optimizer = MuonAdamW(fused.parameters(), newton_schulz_dtype="float32", fused=True)
    assert optimizer.adamw.defaults["fused"] is True
    train(fused, optimizer, None, 4)
    pairs = list(zip(loop.parameters(), fused.parameters(), strict=True))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in pairs)
    assert not all(torch.equal(a, b) for a, b in pairs)  # another kernel, other rounding: it did run
    other = MuonAdamW(fused.parameters(), fused=True)
    other.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    train(fused, other, None, 1)
    assert other.adamw.state is other.state
