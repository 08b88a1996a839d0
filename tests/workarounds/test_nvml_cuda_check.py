"""Lightning's NVML variable goes where PyTorch sees no GPU, and stays where it sees one."""

import os

import pytest
import torch

from rnn_lightning.cli.main import main
from rnn_lightning.workarounds.nvml_cuda_check import NVML_CHECK, drop_nvml_check_without_gpus
from tests.conftest import fit_args

needs_cuda_build = pytest.mark.skipif(not torch.backends.cuda.is_built(), reason="a CPU-only PyTorch")


@needs_cuda_build
@pytest.mark.skipif(torch.cuda.device_count() > 0, reason="a machine with a GPU keeps the variable")
def test_without_gpus_the_variable_goes_and_the_answer_stays(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")
    assert not torch.cuda.is_available()
    assert drop_nvml_check_without_gpus()
    assert NVML_CHECK not in os.environ
    assert not torch.cuda.is_available()  # asked of the CUDA runtime now: the same answer


@needs_cuda_build
def test_with_a_gpu_or_without_the_variable_nothing_changes(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert not drop_nvml_check_without_gpus()
    assert os.environ[NVML_CHECK] == "1"
    monkeypatch.delenv(NVML_CHECK)
    assert not drop_nvml_check_without_gpus()
    assert NVML_CHECK not in os.environ


@needs_cuda_build
@pytest.mark.skipif(torch.cuda.device_count() > 0, reason="a machine with a GPU keeps the variable")
def test_a_fit_on_a_machine_without_gpus_drops_it(fake_data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(NVML_CHECK, "1")
    assert main(fit_args(fake_data_dir, "--trainer.max_steps", "2")) == 0
    assert NVML_CHECK not in os.environ
