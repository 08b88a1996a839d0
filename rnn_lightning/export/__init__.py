"""`python -m rnn_lightning export`: a checkpoint as one file that reads digits outside this project
(ONNX, or a `torch.export` program), its graph and metadata, and writing it without overwriting."""
