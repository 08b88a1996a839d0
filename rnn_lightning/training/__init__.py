"""Training callbacks: the tutorial's running report and chart, the NaN guard and Ctrl-C; the cosine
schedule that spans the run; the speedrun's optimizer (Muon and AdamW); whether bf16 pays on this CPU."""
