"""Input documents: YAML read with the line of every value, JSON Schemas, validation."""
