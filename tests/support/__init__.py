"""Test support code that is not a test module: drivers and generators."""
