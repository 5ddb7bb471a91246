"""Privacy: finding people, companies and contact details in text (redaction) and checking a copy for leaks."""
