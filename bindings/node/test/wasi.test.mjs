// wasi.test.mjs - WASI through kiln's own implementation: arguments, environment, preopened
// directories (and the sandbox around them), stdin/stdout/stderr given as file descriptors,
// exit codes, sync and async runs. fixtures/wasi.c is built with clang-19 at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, instantiate, ExitError, LinkError } from 'kiln';
import { tmp, wasm } from './helpers.mjs';

const program = compile(wasm('wasi.c'));
let serial = 0;

// Run the program with options.wasi plus stdout/stderr files; what they captured.
async function run(wasi, { async = false } = {}) {
  const dir = join(tmp, `run${serial++}`);
  mkdirSync(dir);
  const stdout = openSync(join(dir, 'stdout'), 'w');
  const stderr = openSync(join(dir, 'stderr'), 'w');
  try {
    const instance = instantiate(program, { wasi: { stdin: null, ...wasi, stdout, stderr } });
    const code = async ? await instance.runWasiAsync() : instance.runWasi();
    instance.close();
    return { code, stdout: readFileSync(join(dir, 'stdout'), 'utf8'), stderr: readFileSync(join(dir, 'stderr'), 'utf8') };
  } finally {
    closeSync(stdout);
    closeSync(stderr);
  }
}

test('args, env and the exit code', async () => {
  const { code, stdout, stderr } = await run({ args: ['prog', '7', 'héllo wörld'], env: { GREETING: 'hi there' } });
  assert.equal(code, 7);
  assert.match(stdout, /^arg 0: prog\narg 1: 7\narg 2: héllo wörld\nGREETING=hi there\n/);
  assert.match(stdout, /no \/data\/in.txt/);
  assert.equal(stderr, 'to stderr\n');
});

test('preopens: read and write inside, nothing outside; read-only preopens refuse writes', async () => {
  const data = join(tmp, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'in.txt'), 'make me loud\n');
  const { code, stdout } = await run({ args: ['prog', '0'], preopens: { '/data': data } }, { async: true });
  assert.equal(code, 0);
  assert.match(stdout, /copied/);
  assert.match(stdout, /escape: refused/);
  assert.equal(readFileSync(join(data, 'out.txt'), 'utf8'), 'MAKE ME LOUD\n');
  const readonly = await run({ args: ['prog', '0'], readonlyPreopens: { '/data': data } });
  assert.match(readonly.stdout, /cannot write \/data\/out.txt/);
});

test('stdin from a file descriptor', async () => {
  const input = join(tmp, 'stdin.txt');
  writeFileSync(input, 'a line from the host\n');
  const fd = openSync(input, 'r');
  try {
    const { stdout } = await run({ args: ['prog', '0', 'stdin'], stdin: fd });
    assert.match(stdout, /stdin: a line from the host\n/);
  } finally {
    closeSync(fd);
  }
});

test('stdout into a pipe, read by JavaScript', async () => {
  const fifo = join(tmp, 'stdout.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  try {
    const instance = instantiate(program, { wasi: { args: ['piped', '5'], stdin: null, stdout: writer, stderr: null } });
    assert.equal(await instance.runWasiAsync(), 5);
    const buffer = Buffer.alloc(4096);
    const n = readSync(reader, buffer);
    assert.match(buffer.toString('utf8', 0, n), /^arg 0: piped\narg 1: 5\n/);
  } finally {
    closeSync(writer);
    closeSync(reader);
  }
});

test('a module that imports WASI needs options.wasi: a LinkError otherwise', () => {
  assert.throws(() => instantiate(program), (e) => e instanceof LinkError && /wasi_snapshot_preview1/.test(e.message));
  assert.throws(() => instantiate(program, { wasi: { preopens: { '/x': '/nonexistent/dir' } } }), /nonexistent/);
});

test('proc_exit from an exported function is an ExitError with the code', () => {
  const quit = compile(wasm('exit.wat'));
  const instance = instantiate(quit, { wasi: {} });
  assert.throws(() => instance.exports.quit(3), (e) => e instanceof ExitError && e.code === 3);
  return assert.rejects(instance.exports.quit.async(4), (e) => e instanceof ExitError && e.code === 4);
});
