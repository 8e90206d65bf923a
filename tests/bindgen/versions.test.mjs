// versions.test.mjs - kiln bindgen and the glue on the modules of every wasm-bindgen release
// from 0.2.83 to 0.2.127. Only Debian's 0.2.83 can be built here, so for each version this
// writes the module `cargo build` would make of a small crate, as WebAssembly text: the
// describe exports emit that version's descriptor words, the __wasm_bindgen_unstable section
// has that version's records, and the functions follow that version's ABI (allocator
// alignment, Option<u32> as one f64, &mut [f64] copied back by Rust, hashed intrinsic imports,
// casts, the heap of JS values, struct free's allow_delayed, StartKind). Then it binds the
// module with kiln bindgen and calls it through the glue. The facts come from wasm-bindgen's
// sources at each tag (crates/shared/src/{lib.rs,tys.rs}, src/convert, src/rt); real modules
// of 0.2.93, 0.2.100, 0.2.105, 0.2.114 and 0.2.127 built outside the repository passed
// tests/bindgen's Rust suite the same way. Run by CTest (bindgen_versions) with KILN_BIN.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';

const require = createRequire(import.meta.url);
const kilnBin = process.env.KILN_BIN;
const work = process.env.KILN_VERSIONS_DIR;
assert.ok(kilnBin && work, 'run through CTest (KILN_BIN, KILN_VERSIONS_DIR)');
fs.mkdirSync(work, { recursive: true });
if (spawnSync('wat2wasm', ['--version']).error) {
  console.log('SKIP: wat2wasm (wabt) is missing: scripts/deps.sh installs it');
  process.exit(77);
}

// ------------------------------------------------------------------ the protocol's facts
// The descriptor words in their newest order, with the release that added each (tys.rs).
const WORDS = [
  ['I8'], ['U8'], ['I16'], ['U16'], ['I32'], ['U32'], ['I64'], ['U64'], ['I64_AS_F64', 119], ['U64_AS_F64', 119],
  ['I128', 96], ['U128', 96], ['F32'], ['F64'], ['BOOLEAN'], ['FUNCTION'], ['CLOSURE'], ['CACHED_STRING'], ['STRING'],
  ['REF'], ['REFMUT'], ['LONGREF', 84], ['SLICE'], ['VECTOR'], ['EXTERNREF'], ['NAMED_EXTERNREF'], ['ENUM'],
  ['STRING_ENUM', 93], ['DYNAMIC_UNION', 121], ['RUST_STRUCT'], ['CHAR'], ['OPTIONAL'], ['RESULT'], ['UNIT'],
  ['CLAMPED'], ['NONNULL', 92], ['RAW_POINTER', 119],
];
function word(m, name) {
  const present = WORDS.filter(([, since]) => !since || since <= m).map(([n]) => n);
  const i = present.indexOf(name);
  assert.ok(i >= 0, `${name} in 0.2.${m}`);
  return i;
}
// SCHEMA_VERSION of each release (crates/shared/src/lib.rs): [first release of a run, schema].
const SCHEMAS = [[83, 83], [84, 84], [85, 85], [87, 87], [88, 88], [92, 92], [93, 93], [94, 94], [95, 95], [96, 96],
  [99, 98], [100, 100], [101, 101], [102, 102], [105, 105], [106, 106], [107, 107], [114, 114], [115, 115],
  [118, 118], [119, 119], [121, 121], [122, 122]];
const schemaOf = (m) => SCHEMAS.filter(([from]) => from <= m).pop()[1];
const heapOffset = (m) => (m < 84 ? 32 : m < 109 ? 128 : 1024);
const sentinel = (m) => (m < 96 ? null : m < 119 ? 4294967297 : 9007199254740991);

// ------------------------------------------------------------------ the section's records
const utf8 = (s) => [...Buffer.from(s, 'utf8')];
function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const str = (s) => [...leb(utf8(s).length), ...utf8(s)];
const bool = (b) => [b ? 1 : 0];
const none = () => [0];
const vec = (list, enc) => [...leb(list.length), ...list.flatMap(enc)];

function fn(m, name, args = []) {
  const argData = m < 100 ? (a) => str(a) : (a) => [...str(a), ...none(), ...(m >= 114 ? bool(false) : []), ...none()];
  return [...vec(args, argData), ...bool(false), ...str(name), ...bool(true), ...(m >= 85 ? bool(true) : []), ...bool(false),
    ...(m >= 100 ? [...none(), ...none()] : [])];
}
// MethodKind: Constructor, or Operation { is_static, kind: Regular (0) }
const constructorKind = () => [0];
const regularKind = () => [1, 0, 0];
function exportRecord(m, { name, args = [], cls = null, kind = regularKind(), start = false }) {
  return [...(cls ? [1, ...str(cls)] : none()), ...vec(['a doc line'], str), ...bool(false), ...fn(m, name, args),
    ...(m >= 106 ? none() : []), ...kind, ...(m >= 118 ? [start ? 1 : 0] : bool(start))];
}
function enumRecord(m, name, variants) {
  return [...str(name), ...(m >= 96 ? bool(false) : []),
    ...vec(variants, ([n, v]) => [...str(n), ...leb(v), ...vec([], str)]), ...vec([], str), ...bool(true),
    ...(m >= 106 ? none() : []), ...(m >= 107 ? bool(false) : [])];
}
function importRecord(m, { module, shim, name }) {
  const mod = module === null ? none() : [1, 1, ...str(module)]; // Some(RawNamed(module))
  return [...mod, ...none(), ...(m >= 106 ? none() : []), ...(m >= 115 ? bool(true) : []),
    0, ...str(shim), ...bool(false), ...bool(false), ...bool(false), ...none(), ...bool(false), ...fn(m, name, ['a'])];
}
function structRecord(m, name, fields) {
  return [...str(name), ...(m >= 114 && m < 122 ? str(name) : []),
    ...vec(fields, (f) => [...str(f), ...bool(false), ...vec([], str), ...bool(true), ...(m >= 85 ? bool(true) : [])]),
    ...vec(['a counter'], str), ...bool(false), ...bool(true), ...(m >= 106 ? none() : []), ...(m >= 107 ? bool(false) : []),
    ...(m >= 121 ? none() : []), ...(m >= 122 ? [...none(), ...none()] : [])];
}
function program(m, { exports = [], enums = [], imports = [], structs = [] }) {
  return [...vec(exports, (e) => exportRecord(m, e)), ...vec(enums, ([n, v]) => enumRecord(m, n, v)),
    ...vec(imports, (i) => importRecord(m, i)), ...vec(structs, ([n, f]) => structRecord(m, n, f)),
    ...vec([], str), ...vec([], str), ...vec([], str), ...str('kiln_versions_test-0123'), ...none(),
    ...(m >= 84 ? vec([], str) : [])];
}
function blob(version, schema, prog) {
  const json = utf8(`{"schema_version":"${schema}","version":"${version}"}`);
  const u32 = (n) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
  return [...u32(json.length), ...json, ...u32(prog.length), ...prog];
}
function customSection(name, bytes) {
  const payload = [...str(name), ...bytes];
  return Buffer.from([0, ...leb(payload.length), ...payload]);
}

// ------------------------------------------------------------------ the module
const HASH = '0123456789abcdef';
function shimOf(m, intrinsic) { // __wbindgen_throw as 0.2.<m> imports it
  if (m < 102) return intrinsic;
  return m < 105 ? `__wbg_${intrinsic.replace(/[^A-Za-z0-9]/g, '')}_${HASH}` : `__wbg_${intrinsic}_${HASH}`;
}

function moduleOf(m, version = `0.2.${m}`, schema = `0.2.${schemaOf(m)}`) {
  const w = (name) => word(m, name);
  const describe = (...items) => items.flatMap((x) => (typeof x === 'number' ? [x] : x.startsWith('"')
    ? [[...x.slice(1, -1)].length, ...[...x.slice(1, -1)].map((c) => c.codePointAt(0))] : [w(x)]))
    .map((v) => `(call $d (i32.const ${v}))`).join(' ');
  const fnDesc = (params, result) => describe('FUNCTION', 0, params.length, ...params.flat(), ...result, ...result);
  const enumDesc = m >= 88 ? ['ENUM', '"Color"', 2] : ['ENUM', 2];
  const casts = m >= 102;
  const SENT = sentinel(m);
  const throwShim = shimOf(m, '__wbindgen_throw');
  const copyShim = shimOf(m, '__wbindgen_copy_to_typed_array');
  const errorShim = m >= 101 ? `__wbg_Error_${HASH}` : '__wbindgen_error_new';
  const wat = `(module
  (import "__wbindgen_placeholder__" "__wbindgen_describe" (func $d (param i32)))
  (import "__wbindgen_placeholder__" "${throwShim}" (func $throw (param i32 i32)))
  (import "__wbindgen_placeholder__" "__wbindgen_object_drop_ref" (func $drop (param i32)))
  (import "__wbindgen_placeholder__" "${errorShim}" (func $error_new (param i32 i32) (result i32)))
  ${m >= 84 ? `(import "__wbindgen_placeholder__" "${copyShim}" (func $copy (param i32 i32 i32)))` : ''}
  ${casts ? '(import "__wbindgen_placeholder__" "__wbindgen_describe_cast" (func $dcast (param i32 i32) (result i32)))'
    : '(import "__wbindgen_placeholder__" "__wbindgen_string_new" (func $string_new (param i32 i32) (result i32)))'}
  (memory (export "memory") 2)
  (table 2 funcref)
  ${casts ? '(elem (i32.const 1) $cast_str)' : ''}
  (global $hp (mut i32) (i32.const 4096))
  (global $live (mut i32) (i32.const 0))
  (global $malloc_align (mut i32) (i32.const 0))
  (global $free_align (mut i32) (i32.const 0))
  (global $free_delayed (mut i32) (i32.const 99))
  (global $started (mut i32) (i32.const 0))
  (func $alloc (param $size i32) (param $align i32) (result i32) (local $p i32)
    (global.set $malloc_align (local.get $align))
    (local.set $p (i32.and (i32.add (global.get $hp) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $hp (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $hp) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (global.get $hp) (i32.const 16)) (i32.const 1))))))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $p))
  (func $dealloc (param $ptr i32) (param $size i32) (param $align i32)
    (global.set $free_align (local.get $align))
    (global.set $live (i32.sub (global.get $live) (i32.const 1))))
  ${m >= 87
    ? `(func (export "__wbindgen_malloc") (param i32 i32) (result i32) (call $alloc (local.get 0) (local.get 1)))
  (func (export "__wbindgen_free") (param i32 i32 i32) (call $dealloc (local.get 0) (local.get 1) (local.get 2)))`
    : `(func (export "__wbindgen_malloc") (param i32) (result i32) (call $alloc (local.get 0) (i32.const 8)))
  (func (export "__wbindgen_free") (param i32 i32) (call $dealloc (local.get 0) (local.get 1) (i32.const 0)))`}
  ${casts ? `(func $cast_str (param $a i32) (param $b i32) (result i32) (local $ret i32)
    ${fnDesc([['REF', 'STRING']], ['EXTERNREF'])}
    (i32.store (i32.const 64) (local.get $a)) (i32.store (i32.const 68) (local.get $b))
    ;; the result is read from memory the glue owns (at 4096 or above, where the allocator starts)
    (local.set $ret (call $dcast (i32.const 1) (i32.const 64)))
    (if (i32.lt_u (local.get $ret) (i32.const 4096)) (then unreachable))
    (i32.load (local.get $ret)))` : ''}

  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "__wbindgen_describe_add") ${fnDesc([['U32'], ['U32']], ['U32'])})
  ${SENT === null
    ? `(func (export "opt_inc") (param $ret i32) (param $some i32) (param $v i32)
    (i32.store (local.get $ret) (local.get $some))
    (i32.store offset=4 (local.get $ret) (i32.add (local.get $v) (i32.const 1))))`
    : `(func (export "opt_inc") (param $v f64) (result f64)
    (if (result f64) (f64.eq (local.get $v) (f64.const ${SENT})) (then (f64.const ${SENT}))
      (else (f64.add (local.get $v) (f64.const 1)))))`}
  (func (export "__wbindgen_describe_opt_inc") ${fnDesc([['OPTIONAL', 'U32']], ['OPTIONAL', 'U32'])})
  (func (export "str_len") (param $p i32) (param $n i32) (result i32)
    (call $dealloc (local.get $p) (local.get $n) (i32.const 1)) (local.get $n))
  (func (export "__wbindgen_describe_str_len") ${fnDesc([['REF', 'STRING']], ['U32'])})
  (func (export "yes") (result i32) (i32.const ${heapOffset(m) + 2}))
  (func (export "__wbindgen_describe_yes") ${fnDesc([], ['EXTERNREF'])})
  (func (export "fail") (param $ret i32) (param $p i32) (param $n i32) (local $e i32)
    (local.set $e ${casts ? '(call $cast_str (local.get $p) (local.get $n))' : '(call $string_new (local.get $p) (local.get $n))'})
    (call $dealloc (local.get $p) (local.get $n) (i32.const 1))
    (i32.store (local.get $ret) (local.get $e)) (i32.store offset=4 (local.get $ret) (i32.const 1)))
  (func (export "__wbindgen_describe_fail") ${fnDesc([['REF', 'STRING']], ['RESULT', 'UNIT'])})
  (func (export "throws") (param $p i32) (param $n i32) (call $throw (local.get $p) (local.get $n)))
  (func (export "__wbindgen_describe_throws") ${fnDesc([['REF', 'STRING']], ['UNIT'])})
  (func (export "make_error") (param $p i32) (param $n i32) (result i32) (local $e i32)
    (local.set $e (call $error_new (local.get $p) (local.get $n)))
    (call $dealloc (local.get $p) (local.get $n) (i32.const 1)) (local.get $e))
  (func (export "__wbindgen_describe_make_error") ${fnDesc([['REF', 'STRING']], ['EXTERNREF'])})
  (func (export "double_all") (param $p i32) (param $n i32) ${m >= 84 ? '(param $js i32)' : ''} (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (f64.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))
        (f64.mul (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))) (f64.const 2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    ${m >= 84 ? `(call $copy (local.get $p) (i32.shl (local.get $n) (i32.const 3)) (local.get $js))
    (call $drop (local.get $js))
    (call $dealloc (local.get $p) (i32.shl (local.get $n) (i32.const 3)) (i32.const 8))` : ''})
  (func (export "__wbindgen_describe_double_all") ${fnDesc([['REFMUT', 'SLICE', 'F64']], ['UNIT'])})
  (func (export "greet") (param $ret i32) (param $p i32) (param $n i32) (local $q i32) (local $i i32)
    (local.set $q (call $alloc (i32.add (local.get $n) (i32.const 3)) (i32.const 1)))
    (i32.store8 (local.get $q) (i32.const 104)) (i32.store8 offset=1 (local.get $q) (i32.const 105))
    (i32.store8 offset=2 (local.get $q) (i32.const 32))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 offset=3 (i32.add (local.get $q) (local.get $i)) (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $dealloc (local.get $p) (local.get $n) (i32.const 1))
    (i32.store (local.get $ret) (local.get $q)) (i32.store offset=4 (local.get $ret) (i32.add (local.get $n) (i32.const 3))))
  (func (export "__wbindgen_describe_greet") ${fnDesc([['REF', 'STRING']], ['STRING'])})
  (func (export "color") (param i32) (result i32) (i32.sub (i32.const 1) (local.get 0)))
  (func (export "__wbindgen_describe_color") ${fnDesc([enumDesc], enumDesc)})
  (func (export "init") (global.set $started (i32.add (global.get $started) (i32.const 1))))
  (func (export "__wbindgen_describe_init") ${fnDesc([], ['UNIT'])})
  (func (export "started") (result i32) (global.get $started))
  (func (export "__wbindgen_describe_started") ${fnDesc([], ['U32'])})
  (func (export "live") (result i32) (global.get $live))
  (func (export "__wbindgen_describe_live") ${fnDesc([], ['U32'])})
  (func (export "malloc_align") (result i32) (global.get $malloc_align))
  (func (export "__wbindgen_describe_malloc_align") ${fnDesc([], ['U32'])})
  (func (export "free_align") (result i32) (global.get $free_align))
  (func (export "__wbindgen_describe_free_align") ${fnDesc([], ['U32'])})
  (func (export "free_delayed") (result i32) (global.get $free_delayed))
  (func (export "__wbindgen_describe_free_delayed") ${fnDesc([], ['U32'])})

  (func (export "counter_new") (param $v i32) (result i32) (local $p i32)
    (local.set $p (call $alloc (i32.const 8) (i32.const 4))) (i32.store (local.get $p) (local.get $v)) (local.get $p))
  (func (export "__wbindgen_describe_counter_new") ${fnDesc([['U32']], ['RUST_STRUCT', '"Counter"'])})
  (func (export "counter_get") (param $p i32) (result i32) (i32.load (local.get $p)))
  (func (export "__wbindgen_describe_counter_get") ${fnDesc([], ['U32'])})
  (func (export "__wbg_get_counter_value") (param $p i32) (result i32) (i32.load (local.get $p)))
  (func (export "__wbg_set_counter_value") (param $p i32) (param $v i32) (i32.store (local.get $p) (local.get $v)))
  (func (export "__wbindgen_describe___wbg_get_counter_value") ${describe('U32')})
  (func (export "__wbg_counter_free") (param $p i32) ${m >= 93 ? '(param $delayed i32) (global.set $free_delayed (local.get $delayed))' : ''}
    (call $dealloc (local.get $p) (i32.const 8) (i32.const 4)))
  ${casts ? `(func (export "__wbindgen_describe_${throwShim}") ${fnDesc([['REF', 'STRING']], ['UNIT'])})
  (func (export "__wbindgen_describe___wbg_get_84cd043713c6afab") ${fnDesc([['REF', 'EXTERNREF']], ['EXTERNREF'])})` : ''}
)`;
  const exports = [
    { name: 'add', args: ['a', 'b'] }, { name: 'opt_inc', args: ['x'] }, { name: 'str_len', args: ['s'] },
    { name: 'yes' }, { name: 'fail', args: ['why'] }, { name: 'throws', args: ['why'] }, { name: 'make_error', args: ['why'] },
    { name: 'double_all', args: ['values'] }, { name: 'greet', args: ['name'] }, { name: 'color', args: ['c'] },
    { name: 'init', start: true }, { name: 'started' }, { name: 'live' }, { name: 'malloc_align' }, { name: 'free_align' },
    { name: 'free_delayed' },
    { name: 'new', args: ['start'], cls: 'Counter', kind: constructorKind() }, { name: 'get', cls: 'Counter' },
  ];
  const own = program(m, { exports, enums: [['Color', [['Red', 0], ['Green', 1]]]], structs: [['Counter', ['value']]] });
  // the intrinsics the wasm-bindgen crate itself imports: a program of their own
  const imports = [];
  if (m >= 101) imports.push({ module: null, shim: errorShim, name: 'Error' });
  if (casts) {
    imports.push({ module: '__wbindgen_placeholder__', shim: throwShim, name: '__wbindgen_throw' });
    imports.push({ module: '__wbindgen_placeholder__', shim: copyShim, name: '__wbindgen_copy_to_typed_array' });
  }
  const section = [...blob(version, schema, own), ...blob(version, schema, program(m, { imports }))];
  return { wat, section };
}

// The module of version written, wat2wasm'd, with its section appended: its path.
function writeModule(dir, m, version, schema) {
  fs.mkdirSync(dir, { recursive: true });
  const { wat, section } = moduleOf(m, version, schema);
  const watPath = path.join(dir, 'guest.wat');
  const wasmPath = path.join(dir, 'guest.wasm');
  fs.writeFileSync(watPath, wat);
  const r = spawnSync('wat2wasm', [watPath, '-o', wasmPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  fs.appendFileSync(wasmPath, customSection('__wasm_bindgen_unstable', section));
  return wasmPath;
}

function bindgen(wasm, out) {
  return spawnSync(kilnBin, ['bindgen', wasm, '-o', out], { encoding: 'utf8' });
}

const VERSIONS = [];
for (let m = 83; m <= 127; m++) if (m !== 124) VERSIONS.push(m); // 0.2.124 was never released

for (const m of VERSIONS) {
  test(`wasm-bindgen 0.2.${m}`, async () => {
    const dir = path.join(work, `0.2.${m}`);
    const wasm = writeModule(dir, m);
    const r = bindgen(wasm, dir);
    assert.equal(r.status, 0, r.stderr);
    const g = require(path.join(dir, 'guest.js'));
    assert.equal(g.started(), 1, 'the start function ran once');
    assert.equal(g.add(2, 40), 42);
    assert.equal(g.opt_inc(undefined), undefined);
    assert.equal(g.opt_inc(41), 42);
    assert.equal(g.opt_inc(0), 1);
    assert.equal(g.yes(), true, `JsValue::TRUE is index ${heapOffset(m) + 2}`);
    g.greet('warm'); // the glue's return area, allocated once
    const live = g.live();
    assert.equal(g.str_len('héllo'), 6);
    assert.equal(g.greet('kiln'), 'hi kiln');
    if (m >= 87) assert.equal(g.free_align(), 1, 'a string is freed with align 1');
    assert.equal(g.live(), live, 'what the glue allocated is freed');
    assert.throws(() => g.fail('bad input'), (e) => e instanceof Error && e.message === 'bad input');
    const error = g.make_error('made');
    assert.ok(error instanceof Error);
    assert.equal(error.message, 'made');
    assert.equal(g.live(), live);
    // (a throw from inside the guest skips its destructors: the string stays allocated)
    assert.throws(() => g.throws('boom'), /boom/);
    assert.equal(g.live(), live + 1);
    const values = new Float64Array([1, 2.5]);
    g.double_all(values);
    assert.deepEqual([...values], [2, 5]);
    if (m >= 87) assert.equal(g.malloc_align(), 8, 'a slice of f64 is allocated with align 8');
    const plain = [3, 4];
    g.double_all(plain);
    assert.deepEqual(plain, [6, 8]);
    assert.equal(g.live(), live + 1, 'the slices were freed (by Rust from 0.2.84, by the glue before)');
    assert.equal(await g.greet.async('async'), 'hi async');
    await assert.rejects(g.fail.async('later'), /later/);
    assert.equal(g.color(0), 1);
    const c = new g.Counter(5);
    assert.equal(c.get(), 5);
    assert.equal(c.value, 5);
    c.value = 7;
    assert.equal(c.get(), 7);
    const before = g.live();
    c.free();
    assert.equal(g.live(), before - 1);
    if (m >= 93) assert.equal(g.free_delayed(), 0, 'free() passes allow_delayed = 0');
    const typed = fs.readFileSync(path.join(dir, 'guest.d.ts'), 'utf8');
    // the section's names, docs and members, read in this version's layout
    assert.match(typed, /`add\(a: u32, b: u32\) -> u32`\n \*\n \* a doc line \*\/\nexport declare const add: \{\n  \(a: number, b: number\): number;/);
    assert.match(typed, /export declare const opt_inc: \{\n  \(x: number \| null \| undefined\): number \| undefined;/);
    assert.match(typed, /export declare class Counter \{[^]*constructor\(start: number\);[^]*get value\(\): number;/);
  });
}

test('a wasm-bindgen kiln does not know is refused, naming the version', () => {
  for (const [m, version, schema, message] of [
    [122, '0.2.128', '0.2.122', /built with wasm-bindgen 0\.2\.128 \(schema 0\.2\.122\), which kiln bindgen does not read: it reads the modules of wasm-bindgen 0\.2\.83 to 0\.2\.127/],
    [83, '0.2.82', '0.2.82', /wasm-bindgen 0\.2\.82 .*does not read/],
    [100, '0.2.100', '0.2.99', /built with wasm-bindgen 0\.2\.100, but its schema is 0\.2\.99 where that release's is 0\.2\.100/],
  ]) {
    const dir = path.join(work, `refused-${version}-${schema}`);
    const r = bindgen(writeModule(dir, m, version, schema), dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, message);
  }
});
