"""The books' demos and studies as commands of ``python -m zoo``: each reproduces a figure or a table with a loop
of its own (activations, edge-kernel, trajectory, house-prices, anchors, detect-demo, augment-grid, layers-study,
translator-study)."""
