"""Pure cryptographic building blocks: HPKE sealing, field encryption, KEKs, signatures.

Modules: `hpke` (sealed reports and deliveries), `fields` (field-level encryption at rest),
`kek` / `kek_file` (key-encryption keys), `signing` (Ed25519), `public_keys` (the checks every
public key passes), `encoding` (canonical bytes), `errors`. Nothing here does I/O except
`kek_file`, which owns its one key file.
"""
