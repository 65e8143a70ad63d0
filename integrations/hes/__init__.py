"""Head-end systems: the HES push JSON format (parser and simulator)."""
