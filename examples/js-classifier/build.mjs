// Builds dist/js-classifier.wasm from src/classifier.js against the frozen
// contract in ../../wit/v0.1.0: the JS example stays a 0.1.0 plugin, which
// the host keeps accepting and adapts to the current contract. The
// `jco componentize` CLI fails on this machine ("failed to get path
// metadata"), so the library is called directly. Disabling every
// optional engine feature gives a component that imports no WASI: only
// mailroom:plugin/host.
import { componentize } from '@bytecodealliance/componentize-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'js-classifier.wasm');

const { component } = await componentize({
  sourcePath: join(here, 'src', 'classifier.js'),
  witPath: join(here, '..', '..', 'wit', 'v0.1.0'),
  worldName: 'classifier-plugin',
  disableFeatures: ['http', 'fetch-event', 'stdio', 'random', 'clocks'],
});

await mkdir(dirname(out), { recursive: true });
await writeFile(out, component);
console.log(`wrote ${out} (${component.length} bytes)`);
