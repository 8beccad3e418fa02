"""The token endpoint, JWKS, and sharing's signing keyring with its upkeep."""
