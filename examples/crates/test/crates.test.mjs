// crates.test.mjs - examples/crates: the guest's exports (sha2, miniz_oxide, pulldown-cmark,
// serde_json and regex compiled to wasm) through the glue `kiln build` generates, sync and
// .async(), and through glue.mjs on kiln and on V8's WebAssembly, checked against independent
// implementations in Node (node:crypto, node:zlib, JSON, RegExp) and, for Markdown, which
// Node has none of, against CommonMark cases with known HTML and V8 running the same wasm.
// Bad input is an Error, never a trap, and the instance stays usable; guest memory does not
// grow over many calls.
//   node --test examples/crates/test/    ($KILN: the kiln command, $KILN_CRATES_BUILD_DIR)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import { buildCrates } from '../build.mjs';
import { bindCrates } from '../glue.mjs';
import { jsonDocument, markdownDocument, randomBytes, text } from '../workloads.mjs';

const require = createRequire(import.meta.url);
const kiln = require('kiln');
const built = buildCrates();
const generated = require(built.glue);
const bytes = readFileSync(built.wasm);
const onKiln = bindCrates((imports) => kiln.instantiate(kiln.compile(bytes), { imports }));
const onV8 = bindCrates((imports) => new WebAssembly.Instance(new WebAssembly.Module(bytes), imports));
after(() => {
  generated.instance.close();
  onKiln.close();
});

// Every way of calling an export: [name, (function name, ...args) -> result or a Promise].
const WAYS = [
  ['generated glue', (f, ...args) => generated[f](...args)],
  ['generated glue, .async()', (f, ...args) => generated[f].async(...args)],
  ['glue.mjs on kiln', (f, ...args) => onKiln[f](...args)],
  ['glue.mjs on V8', (f, ...args) => onV8[f](...args)],
];
// The result of every way, checked by `check(result, way)`.
async function everyWay(check, f, ...args) {
  for (const [way, call] of WAYS) check(await call(f, ...args), way);
}
// Every way throws an Error whose message matches `message`, and the instance still works.
async function everyWayThrows(message, f, ...args) {
  for (const [way, call] of WAYS) {
    await assert.rejects(async () => call(f, ...args), (error) => error instanceof Error && !(error instanceof kiln.RuntimeError) && message.test(error.message), `${way}: ${f}`);
  }
  assert.equal(Buffer.from(generated.sha256(Buffer.from('abc'))).toString('hex'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'the instance works after the error');
}

const sha256 = (data) => createHash('sha256').update(data).digest();
const utf8 = (s) => Buffer.from(s, 'utf8');

test('sha256 matches node:crypto on lengths around the block size, text, 1 MiB and 16 MiB', async () => {
  const inputs = [];
  for (let n = 0; n <= 200; n++) inputs.push(randomBytes(n, n + 1));
  inputs.push(utf8(text(10_000)), randomBytes(1 << 20, 7), new Uint8Array(1 << 20));
  for (const input of inputs) await everyWay((digest, way) => assert.deepEqual(Buffer.from(digest), sha256(input), `${way}, ${input.length} bytes`), 'sha256', input);
  const big = randomBytes(16 << 20, 9);
  const expected = sha256(big);
  assert.deepEqual(Buffer.from(generated.sha256(big)), expected);
  assert.deepEqual(Buffer.from(await generated.sha256.async(big)), expected);
  assert.deepEqual(Buffer.from(onV8.sha256(big)), expected);
});

// Inputs for the compression round trips: empty, tiny, random (incompressible), text and
// zeros, up to 1 MiB.
const compressible = [
  ['empty', new Uint8Array(0)],
  ['1 byte', new Uint8Array([42])],
  ['random 1000', randomBytes(1000, 11)],
  ['text 4 KiB', utf8(text(4096, 12))],
  ['zeros 100 KiB', new Uint8Array(100 << 10)],
  ['random 64 KiB + 7', randomBytes((64 << 10) + 7, 13)],
  ['text 1 MiB', utf8(text(1 << 20, 14))],
];

test('deflate and zlib_compress output is what node:zlib inflates back, at every level', async () => {
  for (const [name, data] of compressible) {
    for (const level of data.length > 100_000 ? [1, 6] : [0, 1, 6, 9, 10]) {
      await everyWay((raw, way) => assert.deepEqual(zlib.inflateRawSync(raw), Buffer.from(data), `${way}: ${name}, level ${level}`), 'deflate', data, level);
      const wrapped = generated.zlib_compress(data, level);
      assert.deepEqual(zlib.inflateSync(wrapped), Buffer.from(data), `zlib_compress: ${name}, level ${level}`);
      assert.deepEqual(Buffer.from(onV8.zlib_compress(data, level)), Buffer.from(wrapped), 'V8 compresses the same');
    }
  }
  // It compresses: text to well under half; level 0 stores.
  const prose = compressible.find(([name]) => name === 'text 1 MiB')[1];
  assert.ok(generated.deflate(prose, 6).length < prose.length / 2);
  assert.ok(generated.deflate(prose, 0).length > prose.length);
});

test('inflate and zlib_decompress restore what node:zlib compressed, and their own output', async () => {
  for (const [name, data] of compressible) {
    for (const level of [1, 6, 9]) {
      const expected = Buffer.from(data);
      await everyWay((out, way) => assert.deepEqual(Buffer.from(out), expected, `${way}: ${name}, level ${level}`), 'inflate', zlib.deflateRawSync(data, { level }));
      await everyWay((out, way) => assert.deepEqual(Buffer.from(out), expected, `${way}: ${name}, level ${level}`), 'zlib_decompress', zlib.deflateSync(data, { level }));
    }
    assert.deepEqual(Buffer.from(generated.inflate(generated.deflate(data, 6))), Buffer.from(data), `${name}: guest to guest`);
    assert.deepEqual(Buffer.from(generated.zlib_decompress(generated.zlib_compress(data, 10))), Buffer.from(data), `${name}: guest to guest`);
  }
});

test('corrupt, truncated and mislabelled compressed data is an Error, and the instance stays usable', async () => {
  const data = utf8(text(50_000, 15));
  const raw = zlib.deflateRawSync(data);
  const wrapped = zlib.deflateSync(data);
  const badSum = Buffer.from(wrapped);
  badSum[badSum.length - 1] ^= 1;
  const flipped = Buffer.from(raw);
  flipped[100] ^= 0x55;
  await everyWayThrows(/^inflate: Truncated input stream$/, 'inflate', new Uint8Array(0));
  await everyWayThrows(/^inflate: Truncated input stream$/, 'inflate', raw.subarray(0, raw.length >> 1));
  await everyWayThrows(/^inflate: (Invalid input data|Truncated input stream)/, 'inflate', randomBytes(10_000, 16));
  await everyWayThrows(/^inflate: /, 'inflate', flipped);
  await everyWayThrows(/^zlib_decompress: Adler32 checksum mismatch$/, 'zlib_decompress', badSum);
  await everyWayThrows(/^zlib_decompress: Invalid input data/, 'zlib_decompress', raw); // no zlib header
  await everyWayThrows(/^zlib_decompress: Truncated input stream/, 'zlib_decompress', wrapped.subarray(0, wrapped.length - 4));
  await everyWayThrows(/^compression level 11 is not 0 to 10$/, 'deflate', data, 11);
  await everyWayThrows(/^compression level 255 is not 0 to 10$/, 'zlib_compress', data, 255);
  // Every prefix of a small stream but the whole: an Error each time, never a trap.
  const small = zlib.deflateRawSync(utf8('hello, hello, hello wasm'));
  for (let n = 0; n < small.length; n++) assert.throws(() => generated.inflate(small.subarray(0, n)), /^Error: inflate: /);
});

// CommonMark cases (spec behaviour; pulldown-cmark writes `<br />`, `<hr />` and no newline
// inside `<table>` rows, as its own tests expect) and GitHub's extensions.
const MARKDOWN = [
  ['# Heading\n', '<h1>Heading</h1>\n'],
  ['Setext\n===\n\nSub\n---\n', '<h1>Setext</h1>\n<h2>Sub</h2>\n'],
  ['Hello *world* and **bold** _too_\n', '<p>Hello <em>world</em> and <strong>bold</strong> <em>too</em></p>\n'],
  ['- a\n- b\n', '<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n'],
  ['1. one\n2. two\n', '<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n'],
  ['3. three\n', '<ol start="3">\n<li>three</li>\n</ol>\n'],
  ['```js\ncode <x> & y\n```\n', '<pre><code class="language-js">code &lt;x&gt; &amp; y\n</code></pre>\n'],
  ['    indented\n', '<pre><code>indented\n</code></pre>\n'],
  ['> quote\n', '<blockquote>\n<p>quote</p>\n</blockquote>\n'],
  ['[link](http://a.b "title")\n', '<p><a href="http://a.b" title="title">link</a></p>\n'],
  ['![alt *x*](/i.png)\n', '<p><img src="/i.png" alt="alt x" /></p>\n'],
  ['<https://example.com>\n', '<p><a href="https://example.com">https://example.com</a></p>\n'],
  ['`a < b`\n', '<p><code>a &lt; b</code></p>\n'],
  ['a  \nb\n', '<p>a<br />\nb</p>\n'],
  ['***\n', '<hr />\n'],
  ['foo\\*bar\\*\n', '<p>foo*bar*</p>\n'],
  ['&copy; &amp; &#35; &nbsp;x\n', '<p>© &amp; # \u00a0x</p>\n'],
  ['<div>\n*raw*\n</div>\n', '<div>\n*raw*\n</div>\n'],
  ['[ref]\n\n[ref]: /url\n', '<p><a href="/url">ref</a></p>\n'],
  ['naïve 日本語 😀\n', '<p>naïve 日本語 😀</p>\n'],
  ['', ''],
];
const EXTENSIONS = [
  ['| a | b |\n| - | -: |\n| 1 | 2 |\n',
    '<table><thead><tr><th>a</th><th style="text-align: right">b</th></tr></thead><tbody>\n<tr><td>1</td><td style="text-align: right">2</td></tr>\n</tbody></table>\n'],
  ['~~gone~~ kept\n', '<p><del>gone</del> kept</p>\n'],
  ['- [ ] todo\n- [x] done\n', '<ul>\n<li><input disabled="" type="checkbox"/>\ntodo</li>\n<li><input disabled="" type="checkbox" checked=""/>\ndone</li>\n</ul>\n'],
];

test('markdown_to_html renders CommonMark cases to their known HTML', async () => {
  for (const [markdown, html] of MARKDOWN) await everyWay((out, way) => assert.equal(out, html, `${way}: ${JSON.stringify(markdown)}`), 'markdown_to_html', markdown, false);
  for (const [markdown, html] of EXTENSIONS) {
    await everyWay((out, way) => assert.equal(out, html, `${way}: ${JSON.stringify(markdown)}`), 'markdown_to_html', markdown, true);
    assert.ok(!generated.markdown_to_html(markdown, false).includes(html), 'extensions off: plain CommonMark');
  }
});

test('markdown_to_html on a 200 KB document: the same HTML on kiln and V8, sync and async', async () => {
  const doc = markdownDocument(200_000);
  const expected = onV8.markdown_to_html(doc, true);
  await everyWay((html, way) => assert.equal(html, expected, way), 'markdown_to_html', doc, true);
  const sections = doc.match(/^#+ Section/gm).length;
  assert.equal(expected.match(/<h[1-3]>Section/g).length, sections);
  assert.equal(expected.match(/<table>/g).length, Math.floor(sections / 4));
  assert.ok(!/<\/?script/.test(expected));
});

// JSON.stringify with object keys in serde_json's order (a BTreeMap<String, _>: by UTF-8
// bytes; JavaScript objects would put integer-like keys first), for the comparisons.
function sortedStringify(value, indent = 0, depth = 0) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const pad = indent ? `\n${' '.repeat(indent * (depth + 1))}` : '';
  const close = indent ? `\n${' '.repeat(indent * depth)}` : '';
  const items = Array.isArray(value)
    ? value.map((v) => sortedStringify(v, indent, depth + 1))
    : Object.keys(value).sort((a, b) => Buffer.compare(utf8(a), utf8(b)))
      .map((k) => `${JSON.stringify(k)}:${indent ? ' ' : ''}${sortedStringify(value[k], indent, depth + 1)}`);
  const [open, end] = Array.isArray(value) ? '[]' : '{}';
  return items.length ? `${open}${pad}${items.join(`,${pad}`)}${close}${end}` : `${open}${end}`;
}

// Where serde_json and JSON.stringify(JSON.parse(x)) write the same value the same way:
// strings with every escape, integers up to 2^53, decimals with a fraction under 10^21,
// nesting, duplicate keys (the last wins in both), white space.
const JSON_CASES = [
  '{"b": 1, "a": [1, -2, 2.5, "x", true, false, null], "c": {"z": {}, "y": []}}',
  '"\\u2028 \\u00e9 \\ud83d\\ude00 \\/ \\u001f \\" \\\\ \\b\\f\\n\\r\\t naïve"',
  '[0.1, 3.14159, -0.5, 123456.789, 2.5e-300, 1e-7, 9007199254740991, -9007199254740991]',
  '{"10": 1, "9": 2, "a": 3, "B": 4, "é": 5, "z": 6, "": 7}',
  '{"k": 1, "k": 2}',
  ' \n\t[ \n ] ',
  '{"deep": [[[[[[[[[[{"x": [1, [2, [3]]]}]]]]]]]]]]}',
];

test('json_normalize equals JSON.stringify(JSON.parse(x)) with serde_json\'s key order, compact and pretty', async () => {
  for (const source of [...JSON_CASES, jsonDocument(1_000_000)]) {
    const value = JSON.parse(source);
    const what = source.slice(0, 40);
    await everyWay((out, way) => assert.equal(out, sortedStringify(value), `${way}: ${what}`), 'json_normalize', source, false);
    await everyWay((out, way) => assert.equal(out, sortedStringify(value, 2), `${way}: ${what}`), 'json_normalize', source, true);
  }
  // With keys that are not integer-like, pretty output is JSON.stringify's own.
  const plain = { b: [1, { d: null, c: 'x' }], a: {} };
  assert.equal(generated.json_normalize(JSON.stringify(plain), true), JSON.stringify({ a: {}, b: [1, { c: 'x', d: null }] }, null, 2));
});

test('json_normalize: where serde_json writes numbers differently from JavaScript, the values agree', () => {
  // serde_json keeps integers up to 64 bits exactly, writes floats with ryu ("1.0", "1e21",
  // "-0.0"), and without its float_roundtrip feature may read a long decimal 1 ulp off
  // (V8 running the same wasm gives the same; JavaScript rounds correctly).
  const differences = [
    ['1.0', '1.0', '1'],
    ['1e21', '1e21', '1e+21'],
    ['0.000001', '1e-6', '0.000001'],
    ['-0', '-0.0', '0'],
    ['18446744073709551615', '18446744073709551615', '18446744073709552000'],
    ['123456789012345678901234', '1.2345678901234567e23', '1.2345678901234569e+23'],
  ];
  for (const [source, serde, js] of differences) {
    assert.equal(generated.json_normalize(source, false), serde, source);
    assert.equal(onV8.json_normalize(source, false), serde, `${source} on V8`);
    assert.equal(JSON.stringify(JSON.parse(source)), js, source);
    if (source !== '123456789012345678901234') assert.equal(JSON.parse(serde), JSON.parse(source), `${source}: the same value`);
  }
});

test('json_normalize: bad JSON is an Error naming line and column, as JSON.parse rejects it', async () => {
  const bad = [
    ['{"a":1,}', 'trailing comma at line 1 column 8'],
    ['[1, 2', 'EOF while parsing a list at line 1 column 5'],
    ['{\n  "a": tru\n}', 'expected ident at line 3 column 0'],
    ['{\n  "a" 1}', 'expected `:` at line 2 column 7'],
    ['NaN', 'expected value at line 1 column 1'],
    ['"\\ud800"', 'unexpected end of hex escape at line 1 column 8'],
    ['"a\u0001"', 'control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3'],
    ['', 'EOF while parsing a value at line 1 column 0'],
    ['[1] x', 'trailing characters at line 1 column 5'],
    // 100,000 nested arrays: serde_json's recursion limit, not a stack overflow.
    ['['.repeat(100_000), 'recursion limit exceeded at line 1 column 128'],
  ];
  for (const [source, message] of bad) {
    if (!source.startsWith('"\\ud800')) assert.throws(() => JSON.parse(source), SyntaxError, source);
    await everyWayThrows(new RegExp(`^${message.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`), 'json_normalize', source, false);
  }
});

// Patterns both the regex crate and JavaScript's RegExp (with the u flag) read the same way
// on these texts: no \d, \w or \b over non-ASCII letters (the crate's are Unicode, RegExp's
// ASCII), no empty matches (the two step over them differently), no \r for `.`.
const REGEXES = [
  ['the', /the/gu], ['[a-z]+', /[a-z]+/gu], ['[A-Z][a-z]*', /[A-Z][a-z]*/gu], ['wasm|kiln|module', /wasm|kiln|module/gu],
  ['(?:th|wh)[aeiou]+', /(?:th|wh)[aeiou]+/gu], ['é', /é/gu], ['日本語', /日本語/gu], ['😀', /😀/gu], ['[^ ]+', /[^ ]+/gu],
  ['\\.\\s', /\.\s/gu], ['o{2,}', /o{2,}/gu], ['^[A-Z]', /^[A-Z]/gu], ['(?m)^[A-Z]', /^[A-Z]/gmu], ['[0-9]+', /[0-9]+/gu],
  ['\\bthe\\b', /\bthe\b/gu], ['(?i)KILN', /KILN/giu], ['.{5}$', /.{5}$/gu], ['[^\\x00-\\x7f]+', /[^\x00-\x7f]+/gu],
  ['x{3}', /x{3}/gu], ['(a|b)*c', /(a|b)*c/gu],
];

test('regex_count matches JavaScript RegExp on patterns both support', async () => {
  const texts = [text(2000, 21), text(100_000, 22), 'xxxxxxx abcabc c', ''];
  for (const t of texts) {
    for (const [pattern, regexp] of REGEXES) {
      const expected = (t.match(regexp) || []).length;
      await everyWay((count, way) => assert.equal(count, expected, `${way}: /${pattern}/ on ${t.length} characters`), 'regex_count', pattern, t);
    }
  }
  assert.ok(generated.regex_count('[a-z]+', text(100_000, 22)) > 10_000);
});

test('regex_count: a pattern the crate cannot compile is an Error saying why', async () => {
  await everyWayThrows(/unclosed group/, 'regex_count', '(', 'x');
  await everyWayThrows(/unclosed character class/, 'regex_count', '[a-', 'x');
  await everyWayThrows(/invalid repetition count range/, 'regex_count', 'a{2,1}', 'x');
  await everyWayThrows(/look-around, including look-ahead and look-behind, is not supported/, 'regex_count', '(?<=a)b', 'ab');
  await everyWayThrows(/backreferences are not supported/, 'regex_count', '(a)\\1', 'aa');
  await everyWayThrows(/exceeds size limit/, 'regex_count', '\\w{1000}{1000}', 'x');
});

test('sync and .async() agree; concurrent async calls resolve in order with their own results', async () => {
  const inputs = Array.from({ length: 24 }, (_, i) => randomBytes(1000 * i, 30 + i));
  const expected = inputs.map((input) => Buffer.from(generated.sha256(input)));
  const results = await Promise.all(inputs.map((input) => generated.sha256.async(input)));
  assert.deepEqual(results.map((r) => Buffer.from(r)), expected);
  const mixed = await Promise.all([
    generated.deflate.async(inputs[5], 6), generated.markdown_to_html.async('*a*', false),
    generated.json_normalize.async('{"b":1,"a":2}', false), generated.regex_count.async('a', 'banana'),
    generated.json_normalize.async('{', false).catch((error) => error.message),
  ]);
  assert.deepEqual(Buffer.from(mixed[0]), Buffer.from(generated.deflate(inputs[5], 6)));
  assert.deepEqual(mixed.slice(1), ['<p><em>a</em></p>\n', '{"a":2,"b":1}', 3, 'EOF while parsing an object at line 1 column 1']);
});

test('a memory cap or a timeout ends a call with a MemoryLimitError or TimeoutError, and the instance goes on', async () => {
  const capped = generated.instantiate({ limits: { memory: 32 << 20 } });
  const timed = generated.instantiate({ limits: { timeoutMs: 50 } });
  const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
  try {
    // wasm-bindgen's allocator aborts when memory cannot grow: a trap, after the cap refused
    // the grow, so a MemoryLimitError stating the cap
    const capError = (e) => e instanceof kiln.MemoryLimitError && e.trap === 'unreachable' && e.limit === 32 << 20 &&
      /limit of 32\.0 MiB/.test(e.message);
    assert.throws(() => capped.sha256(new Uint8Array(64 << 20)), capError);
    assert.throws(() => capped.deflate(new Uint8Array(20 << 20), 0), (e) => capError(e) && /^deflate: /.test(e.message));
    assert.equal(Buffer.from(capped.sha256(utf8('abc'))).toString('hex'), abc);
    const big = utf8(text(4 << 20, 60));
    assert.throws(() => timed.deflate(big, 10), kiln.TimeoutError);
    await assert.rejects(timed.deflate.async(big, 10), kiln.TimeoutError);
    assert.equal(Buffer.from(timed.sha256(utf8('abc'))).toString('hex'), abc);
    assert.equal(timed.regex_count('an', 'banana'), 2);
  } finally {
    capped.close();
    timed.close();
  }
});

test('10,000 calls, errors among them, do not grow guest memory', () => {
  const own = generated.instantiate();
  try {
    const data = utf8(text(20_000, 40));
    const markdown = markdownDocument(5_000, 41);
    const json = jsonDocument(10_000, 42);
    const round = (i) => {
      own.sha256(data);
      own.inflate(own.deflate(data.subarray(0, 1000 + (i % 5000)), 1 + (i % 9)));
      own.zlib_decompress(zlib.deflateSync(data.subarray(i % 1000)));
      own.markdown_to_html(markdown, (i & 1) === 1);
      own.json_normalize(json, (i & 2) === 2);
      own.regex_count(['[a-z]+', 'the', '[A-Z]\\w+'][i % 3], markdown);
      assert.throws(() => own.json_normalize(json.slice(0, 100 + (i % 1000)), false));
      assert.throws(() => own.inflate(data.subarray(0, 100)));
      assert.throws(() => own.regex_count('(', ''));
    };
    for (let i = 0; i < 20; i++) round(i);
    const before = own.instance.memory.buffer.byteLength;
    for (let i = 0; i < 1_100; i++) round(i);
    assert.equal(own.instance.memory.buffer.byteLength, before);
  } finally {
    own.close();
  }
});
