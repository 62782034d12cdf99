"""Files a run reads and writes: checkpoints (`checkpoints`, `safe_load`, `resume`), a run's own files (`run_files`)
and the recipe files (`recipe_files`)."""
