"""Training callbacks: the tutorial's running report and chart, the NaN guard and Ctrl-C."""
