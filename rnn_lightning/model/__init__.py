"""The model: the plain recurrent `nn.Module`, the `LightningModule` around it, and `reading.py`, the one way
every command reads a digit with it (one pass: the answer, the answer by row, the insides)."""
