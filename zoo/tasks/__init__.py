"""Task bases: each owns the steps, loss, metrics and optimizer of one kind of problem; architectures subclass one."""
