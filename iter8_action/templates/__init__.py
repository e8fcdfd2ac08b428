"""Templates: Go templates (with Sprig) and Jinja in its sandbox, bounded."""
