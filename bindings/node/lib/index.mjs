// index.mjs - the ES module face of the package 'kiln': `import kiln from 'kiln'` or named
// imports; the same objects as require('kiln') (lib/index.js).
import { createRequire } from 'node:module';

const kiln = createRequire(import.meta.url)('./index.js');

export default kiln;
export const {
  compile,
  compileAsync,
  validate,
  instantiate,
  Module,
  Instance,
  Pool,
  Memory,
  Table,
  Global,
  CompileError,
  LinkError,
  RuntimeError,
  TimeoutError,
  ExitError,
  MemoryLimitError,
  AbortError,
  WebAssembly,
  tiers,
  version,
} = kiln;
