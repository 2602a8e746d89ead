// Prints the gzip size of every file in dist/ and the total (what a phone would fetch if it
// were fetched; in the app it is embedded, but the size still tracks parse and start-up cost).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('../dist/', import.meta.url).pathname;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

let files;
try {
  files = walk(root).sort();
} catch {
  console.error('no dist/: run `npm run build` first');
  process.exit(1);
}
const kb = (n) => (n / 1024).toFixed(2).padStart(8) + ' KB';
let raw = 0;
let gz = 0;
let codeGz = 0;
for (const f of files) {
  const bytes = readFileSync(f);
  const g = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gz += g;
  if (/\.(js|css)$/.test(f)) codeGz += g;
  console.log(`${kb(bytes.length)} ${kb(g)} gzip  ${relative(root, f)}`);
}
console.log(`${kb(raw)} ${kb(gz)} gzip  total`);
console.log(`JS+CSS gzip: ${(codeGz / 1024).toFixed(2)} KB`);
