"""impdesk test suite."""
