"""IEC 61968-9 (CIM) MeterReadings and EndDeviceEvents messages (parsers and simulator)."""
