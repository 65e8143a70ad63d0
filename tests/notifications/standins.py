"""The provider stand-ins used by these tests live in notifications/simulators.py (the benchmark uses them too)."""

from notifications.simulators import DltGatewayStandIn, FcmStandIn, TwilioStandIn

__all__ = ["DltGatewayStandIn", "FcmStandIn", "TwilioStandIn"]
