"""Every place where rnn_lightning leans on another library's private members or changes its behaviour,
one module each, each naming its upstream issue (or saying none was found), the version it was checked
on, and the test that fails when upstream changes (mostly tests/workarounds/test_workarounds.py):

    model_checkpoint_saves ModelCheckpoint's private saves, called when checkpointing/ decides; a check
                           before each write
    fused_bf16_clipping    clipping a fused optimizer under bf16, which Lightning refuses
    hook_name_attribute    Lightning's per-hook `_current_fx_name`, set past nn.Module's checks
    null_profiler          a free default profiler; `Profiler.__del__` on jsonargparse's copies
    onednn_lstm_autocast   an LSTM under CPU autocast where oneDNN has no kernel in that dtype: fp32
    nvml_cuda_check        Lightning's PYTORCH_NVML_BASED_CUDA_CHECK dropped where no GPU is
    option_suggestions     argparse's private `_option_string_actions`: "did you mean" for a typo
    quick_exit             CPython's private atexit runner, then os._exit
    subcommand_help        LightningCLI's private `_add_subcommands`: --help says what each does, and
                           the project's default for `test --verbose` (Lightning's table: off)
    tensorboard_png        SummaryWriter's private `_get_file_writer`: PNG bytes as written

An upgrade of torch, Lightning or jsonargparse (bounded in pyproject.toml) starts here.
"""
