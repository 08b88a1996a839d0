"""Fine-tuning: `--model.init_from` starts a new run from a trained model's weights (not resuming it)."""

import torch
import yaml

from tests.conftest import FEW_STEPS, checkpoint_weights, fit_args, fit_in, make_fake_mnist
from tests.data.test_labelled_folder import labelled_folder


def test_init_from_starts_from_the_weights_with_a_fresh_run(tmp_path, run_here):
    data = make_fake_mnist(tmp_path / "data")
    fit_in(tmp_path, *fit_args(data, "--trainer.max_steps", "5", "--trainer.limit_val_batches", "1"))
    source = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    folder = labelled_folder(tmp_path / "mine")
    # a learning rate of zero: the run's weights must then be the source's, to the bit
    frozen = ["--lr_scheduler.max_lr", "0", "--optimizer.weight_decay", "0"]
    args = fit_args(data, *FEW_STEPS, *frozen, "--model.init_from", "last", config="finetune.yaml")
    result = run_here(*args, "--data.train_folder", str(folder), "--test_after_fit", "true", cwd=tmp_path)
    # `last`: the newest run's last.ckpt, as for --ckpt_path, and the run's config.yaml names the file
    named = str(source.relative_to(tmp_path))
    assert f"Starting from the weights of {named} (step 5)" in result.stderr
    config = yaml.safe_load((tmp_path / "lightning_logs" / "version_1" / "config.yaml").read_text())
    assert config["model"]["init_from"] == named
    # what it starts from, before the first step, on the very sets measured after: unchanged weights,
    # the same figures
    lines = result.stdout.splitlines()
    before = [
        line.split(":", 1)[1] for line in lines if line.startswith("Testing Accuracy before fine-tuning:")
    ]
    after = [line.split(":", 1)[1] for line in lines if line.startswith("Testing Accuracy:")]
    assert lines.index("Optimization Finished!") > 1 and len(before) == 2
    assert before == [after[0], after[-1]] and "(folder " in before[1]
    step, weights = checkpoint_weights(
        tmp_path / "lightning_logs" / "version_1" / "checkpoints" / "last.ckpt"
    )
    assert step == 3  # a run of its own: three steps, not the source's five and three more
    _, start = checkpoint_weights(source)
    assert all(torch.equal(weights[name], start[name]) for name in start)
    # the fine-tuned checkpoint stands alone: the source gone, predict still reads with it
    assert "init_from:" not in (tmp_path / "lightning_logs" / "version_1" / "hparams.yaml").read_text()
    source.unlink()
    image = next((folder / "3").iterdir())
    fine_tuned = tmp_path / "lightning_logs" / "version_1" / "checkpoints" / "last.ckpt"
    args = ["--ckpt_path", str(fine_tuned), "--data.predict_path", str(image)]
    assert run_here("predict", *args, cwd=tmp_path).stdout.startswith(str(image))


def test_init_from_a_model_of_another_shape_is_one_line(tmp_path, run_here):
    data = make_fake_mnist(tmp_path / "data")
    fit_in(tmp_path, *fit_args(data, *FEW_STEPS, "--model.hidden_size", "16"))
    source = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    args = fit_args(data, *FEW_STEPS, "--model.init_from", str(source), config="finetune.yaml")
    result = run_here(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "is of a different model shape" in result.stderr.strip().splitlines()[-1]


def test_init_from_last_without_any_run_is_one_line(fake_data_dir, tmp_path, run_here):
    args = fit_args(fake_data_dir, *FEW_STEPS, "--model.init_from", "last", config="finetune.yaml")
    result = run_here(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1] == (  # after precision auto's
        "python -m rnn_lightning: error: --model.init_from last: no lightning_logs/version_*/checkpoints/"
        "last.ckpt to start from"
    )
    assert [path.name for path in tmp_path.iterdir()] == ["data"]  # the fake MNIST alone: no run folder
