"""Retention: how long reports and read logs are kept, and the sweep that ends them."""
