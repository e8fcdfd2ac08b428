"""What every layer uses: errors and exit codes, secrets, logs, signals, units."""
