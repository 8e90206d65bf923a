// workloads.mjs - deterministic inputs for the tests and the benchmark (the same bytes on
// every machine): random bytes, prose-like text, a Markdown document and a JSON document of
// about a given size. Integer arithmetic only.
//   randomBytes(size, seed), text(size, seed), markdownDocument(size), jsonDocument(size)

// xorshift32: a 32-bit state, never 0.
export function generator(seed = 1) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

export function randomBytes(size, seed = 1) {
  const next = generator(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = next() >>> 24;
  return out;
}

// Mostly English-like ASCII with a few accented and CJK words and an emoji, so that UTF-8
// has 2-, 3- and 4-byte sequences.
const WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but have ' +
  'an they you were her all she there would their we him been has when who will more no if out so said what up its ' +
  'about into than them can only other new some could time these two may then do first any my now such like our over ' +
  'wasm kiln runtime interpreter module memory table global export import function value stack frame trap ' +
  'naïve café Übung señor 日本語 数据 😀').split(' ');

// `count` words drawn with `next` (a generator).
export function words(count, next) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(WORDS[next() % WORDS.length]);
  return out;
}

// Sentences of words with punctuation and a newline every few sentences, cut to `size`
// UTF-16 units at a word boundary.
export function text(size, seed = 3) {
  const next = generator(seed);
  const parts = [];
  let length = 0;
  while (length < size) {
    const sentence = words(4 + (next() % 12), next).join(' ');
    const piece = sentence[0].toUpperCase() + sentence.slice(1) + (next() % 5 === 0 ? '.\n' : '. ');
    parts.push(piece);
    length += piece.length;
  }
  return parts.join('').slice(0, size).replace(/\s\S*$/, '\n');
}

// A document of headings, paragraphs with inline markup (emphasis, strong, code, links,
// escapes, entities), lists, block quotes, fenced code and tables (a GitHub extension),
// about `size` characters.
export function markdownDocument(size = 200_000, seed = 4) {
  const next = generator(seed);
  const phrase = (n) => words(n, next).join(' ');
  const inline = () => {
    const pieces = [];
    for (let i = 0, n = 3 + (next() % 6); i < n; i++) {
      const w = phrase(1 + (next() % 4));
      pieces.push([w, `*${w}*`, `**${w}**`, `\`${w}\``, `[${w}](https://example.com/${next() % 1000}?a=1&b=2)`,
        `${w} &amp; <b>${w}</b>`, `${w}\\*`, `_${w}_`][next() % 8]);
    }
    return pieces.join(' ');
  };
  const blocks = [];
  let length = 0;
  for (let section = 1; length < size; section++) {
    const out = [`${'#'.repeat(1 + (section % 3))} Section ${section}: ${phrase(3)}`, ''];
    for (let p = 0, n = 2 + (next() % 3); p < n; p++) out.push(`${inline()}\n${inline()}.`, '');
    switch (section % 4) {
      case 0:
        for (let i = 0; i < 4; i++) out.push(`- ${inline()}`);
        out.push('  - nested ' + phrase(2), '1. ' + phrase(3), '2. ' + inline(), '');
        break;
      case 1:
        out.push('```js', `const x = ${next() % 100} < ${next() % 100} && "${phrase(2)}";`, 'console.log(x);', '```', '');
        break;
      case 2:
        out.push(`> ${inline()}`, `> ${phrase(5)}`, '>', `> - ${phrase(2)}`, '');
        break;
      default:
        out.push('| name | count | note |', '| --- | ---: | :---: |');
        for (let i = 0; i < 4; i++) out.push(`| ${phrase(1)} | ${next() % 10000} | ${inline()} |`);
        out.push('');
    }
    const block = out.join('\n') + '\n';
    blocks.push(block);
    length += block.length;
  }
  return blocks.join('');
}

// An array of records: strings (with escapes and non-ASCII), integers, decimals that both
// serde_json and JavaScript write the same way (a non-zero fraction, magnitude under 10^6),
// booleans, null, nested objects and arrays, keys in no particular order. About `size` bytes.
export function jsonDocument(size = 1_000_000, seed = 5) {
  const next = generator(seed);
  const records = [];
  let length = 2;
  for (let id = 0; length < size; id++) {
    const cents = (next() % 10_000_000) * 10 + 1 + (next() % 9);
    const record = {
      name: words(2, next).join(' '),
      id,
      tags: words(next() % 5, next),
      price: (next() & 1 ? 1 : -1) * cents / 100,
      active: (next() & 1) === 1,
      note: next() % 7 === 0 ? null : `line "${id}"\n\ttab \\ ${words(3, next).join(' ')} \u0001`,
      zone: { x: next() % 1000, y: -(next() % 1000), label: words(1, next)[0] },
      big: next() * 1024,
    };
    const json = JSON.stringify(record);
    records.push(json);
    length += json.length + 1;
  }
  return `[${records.join(',')}]`;
}
