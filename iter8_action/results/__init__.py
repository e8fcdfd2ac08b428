"""A result: its model, its insights (one reader and writer), `iter8 assert`."""
