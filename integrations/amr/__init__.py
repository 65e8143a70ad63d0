"""AMR: MIOS CDF XML files (parser and simulator)."""
