"""`serve`: a checkpoint behind HTTP (FastAPI on uvicorn) with a page to draw digits on."""
