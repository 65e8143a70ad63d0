"""Billing system (NGB): a signed JSON client and a stand-in server for tests and the demo."""
