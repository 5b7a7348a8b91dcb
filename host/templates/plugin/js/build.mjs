// Builds dist/{{name}}.wasm: turns src/plugin.js into a WebAssembly component
// of the world `{{world}}` in wit/v{{contract}}/ (the contract this plugin
// implements). Run it with `npm run build`.
//
// componentize() is called from the library because the `jco componentize`
// command line fails on some machines ("failed to get path metadata").
// Disabling every optional engine feature gives a component that imports no
// WASI at all, only the host's `mailroom:plugin/host`. So the plugin has no
// console (log through the host's `log`), no clock and no randomness.
import { componentize } from '@bytecodealliance/componentize-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', '{{name}}.wasm');

const { component } = await componentize({
  sourcePath: join(here, 'src', 'plugin.js'),
  witPath: join(here, 'wit', 'v{{contract}}'),
  worldName: '{{world}}',
  disableFeatures: ['http', 'fetch-event', 'stdio', 'random', 'clocks'],
});

await mkdir(dirname(out), { recursive: true });
await writeFile(out, component);
console.log(`wrote ${out} (${component.length} bytes)`);
