"""The data: MNIST (or Fashion-MNIST) as sequences in a LightningDataModule, image files, labelled folders."""
