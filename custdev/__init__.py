"""custdev: an offline-first research repository for customer-development interviews."""

__version__ = "0.1.0"
