// types.ts - uses the public API the way an application would; it must compile with
// `tsc --noEmit --strict` (types.test.mjs runs it), so index.d.ts stays complete and right.
import kiln, {
  compile,
  instantiate,
  Instance,
  Module,
  Pool,
  RuntimeError,
  TimeoutError,
  ExitError,
  WebAssembly as KilnWebAssembly,
  type CallOptions,
  type CompileOptions,
  type ExportDescriptor,
  type InstanceOptions,
  type ModuleStats,
  type Tier,
  type WasmFrame,
} from 'kiln';

async function main(path: string): Promise<void> {
  const module: Module = compile(path);
  const fromBytes: Module = kiln.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  const exports: ExportDescriptor[] = Module.exports(module);
  const names: string[] = exports.map((e) => `${e.kind} ${e.name}`);
  const sections: ArrayBuffer[] = Module.customSections(fromBytes, 'name');
  console.log(names, sections.length, kiln.validate(new Uint8Array(8)), kiln.version);

  const tier: Tier = kiln.tiers.includes('compiled') ? 'compiled' : 'interp';
  const compileOptions: CompileOptions = { tier, portable: false };
  const compiled: Module = new Module(new Uint8Array(8), compileOptions);
  const stats: ModuleStats = compiled.stats();
  const instanceTier: Tier = instantiate(path, { tier: 'interp', limits: { timeoutMs: 10 } }).tier;
  console.log(compiled.tier, stats.nativeFunctions, stats.nativeCodeBytes, instanceTier);

  const options: InstanceOptions = {
    imports: { env: { log: (x: number) => console.log(x), base: 5, big: 1n } },
    wasi: { args: ['prog'], env: { A: 'b' }, preopens: { '/data': '.' }, stdout: 1, stderr: null },
    limits: { memory: 16 << 20, timeoutMs: 100, fuel: 1_000_000n },
  };
  const instance: Instance = instantiate(module, options);
  const sum: number = instance.exports.add(1, 2);
  const later: number = await instance.exports.add.async(1, 2);
  const viaCall: unknown = instance.call('add', 1, 2);
  const controller = new AbortController();
  const callOptions: CallOptions = { signal: controller.signal, timeoutMs: 50 };
  const asyncResult: unknown = await instance.callAsync('add', [1, 2], callOptions);
  console.log(sum, later, viaCall, asyncResult);

  const memory = instance.memory;
  if (memory) {
    const view = new Uint8Array(memory.buffer);
    const written: number = memory.writeString(0, 'hi');
    const text: string = instance.readString(0, written);
    const bytes: Uint8Array = instance.readBytes(0, 2);
    instance.writeBytes(16, new Uint8Array([1, 2]));
    const pages: number = memory.grow(1);
    console.log(view.length, text, bytes, pages, memory.read(0, 1), memory.write(0, 'x'));
  }
  instance.setFuel(10);
  const fuel: number = instance.fuel;
  const busy: boolean = instance.busy;
  console.log(fuel, busy);

  try {
    instance.exports.trap();
  } catch (error) {
    if (error instanceof TimeoutError) console.log('timed out', error.trap);
    else if (error instanceof RuntimeError) {
      const frames: WasmFrame[] = error.wasmStack ?? [];
      console.log(frames.map((f) => `${f.name}@${f.index}:${f.offset}`));
    } else if (error instanceof ExitError) console.log(error.code);
  }

  const wasi = instantiate(path, { wasi: true });
  const code: number = wasi.runWasi();
  const asyncCode: number = await wasi.runWasiAsync();
  wasi.interrupt();
  wasi.close();
  console.log(code, asyncCode);

  const pool = new Pool(module, { size: 2, limits: { timeoutMs: 1000 } });
  const results: unknown[] = await Promise.all([pool.call('add', 1, 2), pool.callAsync('add', [3, 4], { signal: AbortSignal.timeout(100) })]);
  const size: number = pool.size + pool.pending + pool.instances.length;
  const poolTier: Tier = pool.tier;
  console.log(poolTier);
  await pool.close();
  console.log(results, size);

  // The facade where a loader expects WebAssembly.
  const W: typeof kiln.WebAssembly = KilnWebAssembly;
  const { module: m2, instance: i2 } = await W.instantiate(new Uint8Array(8), { env: {} });
  const i3 = await W.instantiate(m2);
  const i4 = new W.Instance(new W.Module(new Uint8Array(8)), {});
  const memory2 = new W.Memory({ initial: 1, maximum: 2 });
  const table = new W.Table({ element: 'anyfunc', initial: 1 });
  const global = new W.Global({ value: 'i32', mutable: true }, 1);
  global.value = 2;
  console.log(i2.exports, i3.exports, i4.exports, memory2.buffer.byteLength, table.length, W.validate(new Uint8Array(8)));
  const e: Error = new W.CompileError('x');
  console.log(e instanceof W.CompileError);
  instance.close();
}

void main(process.argv[2] ?? 'x.wasm');
