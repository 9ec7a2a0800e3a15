// make widget-size: what the customer widget's page loads as script, raw and gzipped
// (level 9, as a server would send it), next to the console's bundle. The widget is plain
// JS with no build step: its weight is the modules chat.js imports, followed from the file.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const STATIC = join(root, "src/branchline/web/static/branchline");

function modules(entry, seen = new Set()) {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const source = readFileSync(entry, "utf8");
  for (const [, spec] of source.matchAll(/^\s*import\s[^"']*["'](\.{1,2}\/[^"']+)["']/gm)) modules(resolve(dirname(entry), spec), seen);
  return seen;
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
function report(title, files) {
  let raw = 0, gz = 0;
  console.log(title);
  for (const file of files) {
    const bytes = readFileSync(file);
    const zipped = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length; gz += zipped;
    console.log(`  ${file.slice(root.length + 1).padEnd(52)} ${kib(bytes.length).padStart(10)} ${kib(zipped).padStart(10)} gzipped`);
  }
  console.log(`  ${"total".padEnd(52)} ${kib(raw).padStart(10)} ${kib(gz).padStart(10)} gzipped`);
  return gz;
}

report("Customer widget (/chat/): chat.js and its imports", [...modules(join(STATIC, "chat.js"))]);
const bundle = join(root, "frontend/dist/console/console.js");
if (existsSync(bundle)) report("Staff console (/console/): the built bundle", [bundle]);
else console.log("Staff console: not built (make assets)");
