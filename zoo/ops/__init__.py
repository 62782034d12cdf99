"""Functions without parameters, importable without Lightning: losses written from the book's formulas.

Layers and networks (which hold parameters) are in `zoo.nets`; the task bases in `zoo.tasks` call these.
"""
