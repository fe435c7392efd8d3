// The plugin has no runtime behaviour: it exists to publish the `clawvault`
// secretProviderIntegrations preset (see openclaw.plugin.json), which OpenClaw reads
// from the manifest before any plugin code loads.
export default {
  id: "clawvault",
  name: "clawvault",
  description: "Resolve OpenClaw exec SecretRefs from a local clawvault vault.",
  register() {},
};
