# clawvault gateway (reader): what a host that only resolves needs. Replace MOUNT and
# PREFIX as in openbao-policy.hcl (the writer/operator policy). `resolve`, `exec`,
# `unlock --status`, `models status` and `doctor` work under it; `paste-api-key`,
# `logout` and `import-env` need the writer policy. Keep the built-in `default`
# policy attached (token lookup-self and renew-self).

# Read each entry (every resolve path: one id, a batch, `exec`).
path "MOUNT/data/PREFIX/*" {
  capabilities = ["read"]
}

# `contains` and `list` read metadata.
path "MOUNT/metadata/PREFIX/*" {
  capabilities = ["read", "list"]
}
path "MOUNT/metadata/PREFIX" {
  capabilities = ["list"]
}
