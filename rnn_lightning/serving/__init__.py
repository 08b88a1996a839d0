"""`serve`: a trained checkpoint behind HTTP on LitServe, with a page to draw digits on.

Only `command` is imported by the CLI; LitServe and FastAPI are imported when a server starts.
"""
