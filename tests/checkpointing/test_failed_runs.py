"""A fit that fails before its first checkpoint leaves no version folder (nor an empty lightning_logs/);
what earlier runs wrote stays as it was. Each a real failing command, run in this process (`run_here`)."""

from pathlib import Path

from tests.conftest import fit_args, fit_in

SHORT = ("--trainer.max_steps", "3", "--trainer.limit_val_batches", "2", "--trainer.log_every_n_steps", "1")


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_crash_at_the_first_step_leaves_no_folder(fake_data_dir, tmp_path, run_here):
    # An infinite learning rate: torch's SGD fails inside the first optimizer step.
    result = run_here(*fit_args(fake_data_dir, *SHORT, "--optimizer.lr", "1e300"), cwd=tmp_path, check=False)
    assert result.returncode != 0 and "overflow" in result.stderr
    assert not (tmp_path / "lightning_logs").exists(), list(tmp_path.rglob("*"))


def test_a_refused_optimizer_value_is_one_line_and_leaves_no_folder(fake_data_dir, tmp_path, run_here):
    result = run_here(*fit_args(fake_data_dir, *SHORT, "--optimizer.lr", "-1"), cwd=tmp_path, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "python -m rnn_lightning: error: a configured value was refused: Invalid learning rate: -1.0"
    )
    assert not (tmp_path / "lightning_logs").exists()


def test_nan_weights_before_the_first_checkpoint_leave_no_folder_and_earlier_runs_untouched(
    fake_data_dir, tmp_path, run_here
):
    fit_in(tmp_path, *fit_args(fake_data_dir, *SHORT))  # the earlier run: only its files matter
    earlier = tmp_path / "lightning_logs" / "version_0"
    before = files_under(earlier)
    assert "checkpoints/last.ckpt" in before
    # A NaN learning rate (YAML's .nan) passes torch's check and makes every weight NaN at step 1: the
    # final step's save refuses them (TrainingDiverged), so the run has no checkpoint.
    result = run_here(*fit_args(fake_data_dir, *SHORT, "--optimizer.lr", ".nan"), cwd=tmp_path, check=False)
    assert result.returncode == 2 and "NaN or infinite" in result.stderr, result.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "lightning_logs").iterdir()) == ["version_0"]
    assert files_under(earlier) == before


def test_a_folder_named_by_the_user_is_never_removed(fake_data_dir, tmp_path, run_here):
    # `--trainer.logger.init_args.version` names a folder that exists already: it is not this run's.
    mine = tmp_path / "lightning_logs" / "kept"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    args = fit_args(
        fake_data_dir, *SHORT, "--optimizer.lr", "1e300", "--trainer.logger.init_args.version", "kept"
    )
    assert run_here(*args, cwd=tmp_path, check=False).returncode != 0
    assert (mine / "notes.txt").read_text() == "mine"
