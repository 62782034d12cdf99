"""The user commands of ``python -m zoo``, one module per kind: `text_queries` (generate, similar, analogy,
classify-text), `translate`, `classify`, `export` (with `graph_export`, the library behind it) and `results`."""
