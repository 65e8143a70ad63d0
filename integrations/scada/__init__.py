"""SCADA / SHMS / MDAS feeder and DT energy, JSON and CSV (parser and simulator)."""
