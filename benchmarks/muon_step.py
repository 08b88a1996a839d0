"""The speedrun's Muon step on this processor, Newton-Schulz in each dtype, measured side by side.

    python benchmarks/muon_step.py [--rounds 5] [--steps 100] [--hidden-size 128]

torch.optim.Muon (PyTorch 2.14) always orthogonalises in bf16; rnn_lightning.MuonAdamW's `auto` does so
only where bf16 matrix products are fast (AMX, AVX-512 BF16, a CUDA GPU with bf16) and in fp32 elsewhere.
This times one Muon update of the LSTM's recurrent matrix (4*hidden x hidden): bf16 as oneDNN computes
it here, bf16 with oneDNN off (what PyTorch does on an x86 CPU without AVX-512, where it does not hand
bf16 products to oneDNN), and fp32; the variants in turn over `--rounds` so that each samples the same
moments of a shared machine, and prints each one's median and its ratio to fp32.
"""

import argparse
import statistics
import time

from common import print_provenance

VARIANTS = {  # name: (dtype, oneDNN on)
    "bf16, oneDNN": ("bfloat16", True),
    "bf16, oneDNN off (as without AVX-512)": ("bfloat16", False),
    "fp32": ("float32", True),
}


def muon_update_ms(hidden_size: int, dtype: str, onednn: bool, steps: int) -> float:
    """Milliseconds of one update (Muon's momentum, Newton-Schulz and step), the mean of `steps`."""
    import torch

    from rnn_lightning.training.muon_adamw import MuonAdamW

    torch.manual_seed(0)
    matrix = torch.nn.Parameter(torch.randn(4 * hidden_size, hidden_size) / hidden_size**0.5)
    bias = torch.nn.Parameter(torch.zeros(10))  # AdamW's part (the class wants one): a head's bias
    matrix.grad, bias.grad = torch.randn_like(matrix), torch.randn_like(bias)
    optimizer = MuonAdamW([matrix, bias], newton_schulz_dtype=dtype)
    with torch.backends.mkldnn.flags(enabled=onednn):
        optimizer.step()  # warm-up: state and kernels
        started = time.perf_counter()
        for _ in range(steps):
            optimizer.step()
        return (time.perf_counter() - started) / steps * 1e3


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--rounds", type=int, default=5, help="turns of every variant (default 5)")
    parser.add_argument("--steps", type=int, default=100, help="updates a turn (default 100)")
    parser.add_argument("--hidden-size", type=int, default=128, help="the LSTM's (default 128)")
    args = parser.parse_args()
    print_provenance()
    times = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, (dtype, onednn) in VARIANTS.items():
            times[name].append(muon_update_ms(args.hidden_size, dtype, onednn, args.steps))
    fp32 = statistics.median(times["fp32"])
    size = f"{4 * args.hidden_size}x{args.hidden_size}"
    print(f"\nOne Muon update of a {size} matrix, median of {args.rounds} turns of {args.steps}:\n")
    print("| Newton-Schulz in | ms an update | vs fp32 |")
    print("| --- | --- | --- |")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {median / fp32:.2f}x |")


if __name__ == "__main__":
    main()
