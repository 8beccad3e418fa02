"""Contact health: how each contact's deliveries fare, and warnings when one stops working."""
