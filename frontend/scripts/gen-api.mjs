// Regenerates src/api/schema.d.ts from the backend's OpenAPI document.
// The document is produced by the app factory itself (no server needed):
//   ../.venv/bin/python -c "from fluxops.api.app import create_app; ..." > openapi.json
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const python = existsSync(resolve(root, ".venv/bin/python")) ? resolve(root, ".venv/bin/python") : "python3";
const specPath = resolve(here, "..", "src", "api", "openapi.json");
const outPath = resolve(here, "..", "src", "api", "schema.d.ts");

const code = [
  "import json, tempfile",
  "from fluxops.api.app import create_app",
  "from fluxops.core.config import Settings",
  "print(json.dumps(create_app(Settings(data_dir=tempfile.mkdtemp())).openapi(), indent=1, sort_keys=True))",
].join("\n");
const spec = execFileSync(python, ["-c", code], { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
writeFileSync(specPath, spec);
execFileSync(resolve(here, "..", "node_modules", ".bin", "openapi-typescript"), [specPath, "-o", outPath], { stdio: "inherit" });
console.log(`wrote ${outPath}`);
