"""The history callback: which steps it records, the files it writes, and when it writes nothing."""

import csv

import lightning as L
import matplotlib.pyplot as plt
import pytest
import torch
from PIL import Image

from rnn_lightning import MNISTDataModule, SequenceClassifier, TrainingHistory
from rnn_lightning.report.figures import performance_figure


class SGDClassifier(SequenceClassifier):
    """The module with an optimizer of its own, as the CLI would add one, for a bare `Trainer`."""

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def fit(tmp_path, data_dir, **trainer_kwargs):
    history = TrainingHistory(interval=4)
    trainer = L.Trainer(
        default_root_dir=tmp_path,
        accelerator="cpu",
        callbacks=[history],
        enable_progress_bar=False,
        enable_model_summary=False,
        **trainer_kwargs,
    )
    trainer.fit(SGDClassifier(hidden_size=16), MNISTDataModule(data_dir=str(data_dir), batch_size=32))
    return trainer, history


def test_records_step_one_every_interval_and_the_final_step_then_writes_files(
    tmp_path, fake_data_dir, capsys
):
    trainer, history = fit(tmp_path, fake_data_dir, max_steps=10, limit_val_batches=2, val_check_interval=5)
    assert [record[0] for record in history.train_records] == [1, 4, 8, 10]  # 10: the last, no multiple of 4
    assert [record[0] for record in history.val_records] == [5, 10]
    out = capsys.readouterr().out
    assert "Step 1, Minibatch Loss= " in out and "Step 8, Minibatch Loss= " in out
    assert out.count("Step 10, Minibatch Loss= ") == 1
    assert out.rstrip().endswith("Optimization Finished!")
    log_dir = trainer.log_dir
    with open(f"{log_dir}/history.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["step"] for row in rows] == ["1", "4", "5", "8", "10", "10"]  # training's, then validation's
    assert rows[2]["val_accuracy"] and not rows[2]["accuracy"]
    assert 0 <= float(rows[0]["accuracy"]) <= 1 and float(rows[0]["loss"]) > 0
    with Image.open(f"{log_dir}/performance.png") as image:
        assert image.format == "PNG" and image.width > 300


def test_the_last_batch_of_the_last_epoch_is_the_final_step(tmp_path, fake_data_dir, capsys):
    _trainer, history = fit(tmp_path, fake_data_dir, max_epochs=2, limit_train_batches=3, limit_val_batches=1)
    assert [record[0] for record in history.train_records] == [1, 4, 6]  # 6: 2 epochs of 3 steps


def test_fast_dev_run_saves_nothing_and_does_not_fail(tmp_path, fake_data_dir):
    _trainer, history = fit(tmp_path, fake_data_dir, fast_dev_run=True)
    assert [record[0] for record in history.train_records] == [1]
    assert not list(tmp_path.rglob("history.csv")) and not list(tmp_path.rglob("performance.png"))


def test_a_minibatch_without_an_error_sits_on_the_error_axis_floor():
    figure = performance_figure([1, 200, 400], [0.5, 0.9, 1.0], [300], [0.95])
    errors = figure.axes[1]
    lines = {line.get_label(): line for line in errors.get_lines()}
    perfect = lines["training minibatch without an error"]
    assert list(perfect.get_xdata()) == [400]
    assert perfect.get_ydata()[0] == pytest.approx(0.05 / 2)  # half the smallest error seen
    assert list(lines["training minibatch"].get_xdata()) == [1, 200]
    assert errors.get_ylim()[0] > 0.01  # no floor far below to flatten the curve
    plt.close(figure)


class BatchAndWeightsAtStepOne(L.Callback):
    """Keeps what step 1 trained on, the loss its forward pass returned and the weights after its update."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == 1:
            self.batch = [tensor.clone() for tensor in batch]
            self.loss_before_update = float(outputs["loss"])
            self.weights = {name: value.clone() for name, value in pl_module.state_dict().items()}


def test_the_line_measures_the_batch_after_its_update_as_the_tutorial(tmp_path, fake_data_dir):
    """The tutorial runs `train_op`, then `sess.run([loss_op, accuracy])` on the same batch."""
    seen = BatchAndWeightsAtStepOne()
    history = TrainingHistory(interval=4)
    trainer = L.Trainer(
        default_root_dir=tmp_path,
        accelerator="cpu",
        callbacks=[seen, history],
        max_steps=2,
        limit_val_batches=0,
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
    )
    model = SGDClassifier(hidden_size=16)
    trainer.fit(model, MNISTDataModule(data_dir=str(fake_data_dir), batch_size=32))
    model.load_state_dict(seen.weights)
    model.eval()
    sequences, labels = seen.batch
    with torch.no_grad():
        logits = model(sequences)
    step, loss, accuracy = history.train_records[0]
    assert step == 1
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(logits, labels)), abs=1e-6)
    assert accuracy == pytest.approx(float((logits.argmax(1) == labels).float().mean()))
    assert abs(loss - seen.loss_before_update) > 1e-4  # lr 0.01 moves the loss: before and after differ
