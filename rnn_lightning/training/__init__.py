"""Training callbacks: the tutorial's running report and chart, the NaN guard and Ctrl-C; the cosine
schedule that spans the run; whether bf16 pays on this CPU."""
