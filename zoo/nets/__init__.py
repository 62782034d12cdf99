"""Plain ``nn.Module`` networks and blocks, importable without Lightning (``from zoo.nets.recurrent import ...``)."""
