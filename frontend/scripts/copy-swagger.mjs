// Copies Swagger UI (npm swagger-ui-dist) next to the built UI, so the API's /docs page loads it from
// this server instead of a CDN (src/fluxops/api/docs_ui.py). Run after `vite build` (which empties the folder).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const src = dirname(require.resolve("swagger-ui-dist/package.json"));
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "fluxops", "web", "swagger");
mkdirSync(out, { recursive: true });
for (const f of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"]) {
  copyFileSync(join(src, f), join(out, f));
}
console.log(`swagger-ui-dist copied to ${out}`);
