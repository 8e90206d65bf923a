// structs.check.mts - how TypeScript sees the classes kiln bindgen writes for the exported
// structs of rust/src/lib.rs: run.sh copies this beside the generated glue and type-checks it
// with tsc --strict (it is not run). The @ts-expect-error lines must stay errors.
import glue, { Counter, Token, instantiate, make_token, maybe_counter, take_counter, total } from './kiln_bindgen_types.mjs';

const c: Counter = new Counter('apples');
const n: number = c.add(2);
const later: Promise<number> = c.add.async(3);
const label: string = c.label();
c.n = n + 1;
c.step = 2;
c.tag = 'tag';
const upper: string = c.upperLabel;
const serial: number = c.serial;
const zero: Counter = Counter.zero();
const parsed: Promise<Counter> = Counter.parse.async('42');
c.merge(zero);
const moved: number = c.absorb(zero);
const maybe: Counter | undefined = maybe_counter(true);
const taken: number = take_counter(maybe ?? null);
const sum: number = total(c);
const token: Token = make_token(1);
const id: number = token.id;
const own = instantiate();
const other: Counter = new own.Counter('other');
const same: typeof Counter = glue.Counter;
c.free();
c[Symbol.dispose]();
// @ts-expect-error: a Token has no constructor
new Token();
// @ts-expect-error: serial is readonly (a getter only)
c.serial = 1;
// @ts-expect-error: a Token is not a Counter
total(token);
// @ts-expect-error: add takes a number
c.add('1');
void [later, label, upper, serial, parsed, moved, taken, sum, id, other, same];
own.close();
