#!/usr/bin/env node
// OpenClaw exec SecretRef resolver: hands the request to `clawvault resolve`
// unchanged. stdin, stdout and stderr are the very descriptors OpenClaw gave this
// process, so this script never sees, parses or buffers a request or a secret.
// The binary: $CLAWVAULT_BIN if set (an absolute path), else `clawvault` on PATH.
import { spawnSync } from "node:child_process";
import { isAbsolute } from "node:path";

const bin = process.env.CLAWVAULT_BIN || "clawvault";
if (process.env.CLAWVAULT_BIN && !isAbsolute(bin)) {
  process.stderr.write("clawvault plugin: CLAWVAULT_BIN must be an absolute path\n");
  process.exit(1);
}
const r = spawnSync(bin, ["resolve"], { stdio: "inherit" });
if (r.error) {
  process.stderr.write(
    `clawvault plugin: cannot run ${bin}: ${r.error.code || r.error.message}; install clawvault or set CLAWVAULT_BIN\n`,
  );
  process.exit(1);
}
process.exit(r.status ?? 1);
