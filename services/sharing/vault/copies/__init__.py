"""The sealed copies of stored reports still on the bus, and the janitor that erases them."""
