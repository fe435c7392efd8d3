# clawvault: exactly what one vault needs in OpenBao / HashiCorp Vault (KV v2).
# Replace MOUNT (e.g. secret) and PREFIX (e.g. clawvault/<vault-id>, printed by
# `clawvault init`). Token renewal (auth/token/renew-self) and lookup-self are
# granted by the built-in `default` policy; keep it attached.

# Write, read and soft-delete (the latest version of) each entry.
path "MOUNT/data/PREFIX/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# `contains`, `list` and `logout --purge` (delete of the metadata removes every version).
path "MOUNT/metadata/PREFIX/*" {
  capabilities = ["read", "list", "delete"]
}
path "MOUNT/metadata/PREFIX" {
  capabilities = ["list"]
}
