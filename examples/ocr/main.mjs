// main.mjs - prints the text in pictures: node main.mjs PICTURE.png|jpg... [--json] [--max-side N]
// Each line of text read, with its confidence and its box's top-left corner; --json prints
// readText's whole result.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { close, readText } from './ocr.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { json: { type: 'boolean' }, 'max-side': { type: 'string', default: '0' } } });
if (positionals.length === 0) {
  console.error('usage: node main.mjs PICTURE.png|jpg... [--json] [--max-side N]');
  process.exit(2);
}
let failed = false;
for (const file of positionals) {
  try {
    const result = await readText.async(readFileSync(file), { maxSide: Number(values['max-side']) });
    if (values.json) {
      console.log(JSON.stringify({ file, ...result }));
      continue;
    }
    console.log(`${file}: ${result.lines.length} lines in ${result.timing.total.toFixed(0)} ms`);
    for (const { text, confidence, box } of result.lines) console.log(`  ${confidence.toFixed(3)}  (${box[0].join(', ')})  ${text}`);
  } catch (error) {
    console.error(`${file}: ${error.message}`);
    failed = true;
  }
}
close();
process.exitCode = failed ? 1 : 0;
