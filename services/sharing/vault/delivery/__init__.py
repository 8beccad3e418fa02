"""Sealed delivery: partners' HPKE keys, reads sealed to them, sharing's delivery signer."""
