"""Readers' reports of problems with cases, and the curators' queue that resolves them."""
