"""After a test or a prediction: the metrics gathered, the pictures drawn from them, the files written."""
