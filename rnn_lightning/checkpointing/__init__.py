"""Checkpoints, in one place: what a fit writes (`FinalStepCheckpoint`: the step it stopped at, a save on
Ctrl-C or a crash, the final step scored for the best, never NaN weights) and how a command reads them
(`files`: one clear line for a bad file, `--ckpt_path last`, the model's shapes checked). The calls into
`ModelCheckpoint`'s private methods are in `workarounds/model_checkpoint_saves.py`; `weights`: a trained
model's weights as the start of a fine-tuning run."""
