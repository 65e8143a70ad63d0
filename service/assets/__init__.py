"""Meter assets from purchase to scrap (issue 12). So far: the status transition table
(`lifecycle`); the asset tables, URJAS import and replacements are still to be built."""
