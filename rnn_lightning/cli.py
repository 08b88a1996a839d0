"""The command line: LightningCLI with `fit`, `validate`, `test` and `predict`, plus the tutorial's report."""

import torch
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from typing_extensions import override

from rnn_lightning.data import MNISTDataModule
from rnn_lightning.module import SequenceClassifier

TUTORIAL_TEST_IMAGES = 128  # the tutorial measured its "Testing Accuracy" on the first 128 test images


@rank_zero_only
def print_once(line: str) -> None:
    """Prints on rank zero only, so that each report line appears once under DDP."""
    print(line, flush=True)


class RNNLightningCLI(LightningCLI):
    """Links the model's input size and class count to the data, and tests the final weights after fit."""

    @override
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.input_size", "model.input_size", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.add_argument(
            "--test_after_fit", type=bool, default=True, help="Test the final weights when fit ends."
        )

    @override
    def after_fit(self) -> None:
        if not self.config.fit.get("test_after_fit", True) or self.trainer.interrupted:
            return
        results = self.trainer.test(self.model, datamodule=self.datamodule, verbose=False)
        first = tutorial_test_accuracy(self.model, self.datamodule)
        images = len(self.datamodule.split("test")[0])
        print_once(f"Testing Accuracy: {results[0]['test/acc']:.4f} ({images} test images)")
        print_once(
            f"Testing Accuracy: {first:.4f} (first {TUTORIAL_TEST_IMAGES} test images, as the tutorial)"
        )


@torch.no_grad()
def tutorial_test_accuracy(model: SequenceClassifier, datamodule: MNISTDataModule) -> float:
    """Accuracy on the first 128 test images, the tutorial's own test figure."""
    images, labels = datamodule.split("test")
    images, labels = images[:TUTORIAL_TEST_IMAGES], labels[:TUTORIAL_TEST_IMAGES]
    was_training = model.training
    model.eval()
    predictions = model(datamodule.to_sequence(images).to(model.device)).argmax(dim=-1)
    model.train(was_training)
    return (predictions == labels.to(model.device)).float().mean().item()


def build_cli(args: list[str] | None = None, run: bool = True) -> RNNLightningCLI:
    """The CLI as `python -m rnn_lightning` runs it; `args` replaces `sys.argv[1:]` (tests use it)."""
    return RNNLightningCLI(
        SequenceClassifier,
        MNISTDataModule,
        args=args,
        run=run,
        save_config_kwargs={"overwrite": False},
    )
