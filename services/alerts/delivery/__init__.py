"""Delivery: jobs, the worker and the channels that reach people, and how they are reached."""
