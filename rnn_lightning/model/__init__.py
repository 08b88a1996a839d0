"""The model: the plain recurrent `nn.Module`, the `LightningModule` around it, and checkpoint files."""
