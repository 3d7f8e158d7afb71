"""Source connectors: each turns a platform's reports into unified rows."""
