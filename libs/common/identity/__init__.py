"""Pseudonymous identities: canonical keys that survive transliteration, OPRF tokens, matching.

Modules: `translit` (spelling folding rules), `names` (name layout, patronymics), `dates`
(dates of birth), `fuzzy` (typo signatures), `canonical` (name + date → labelled keys),
`group` (ristretto255 via libsodium), `oprf` (RFC 9497), `keyring` (sharing's versioned PRF
keys), `tokens` (keys → tokens through an evaluator), `tokenvalue` (a token and its text
form, without the OPRF), `match` (the strong/possible/none rule),
`evaluation` (the `lifeline identity eval` logic). Everything is pure except the key
generation's randomness. See docs/identity.md.
"""
