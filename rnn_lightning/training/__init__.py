"""Training callbacks: the tutorial's running report and chart, the NaN guard and Ctrl-C; the cosine
schedule that spans the run."""
