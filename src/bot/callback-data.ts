/**
 * Callback data of inline buttons, defined once per button: one definition packs the string a
 * button carries, recognises it when pressed (`filter()` for grammY's `callbackQuery` and for
 * `ask({ buttons })`) and unpacks it into typed values.
 *
 * The wire format is `prefix:value:value…`, the format every button has always had, so buttons
 * already sitting in people's chats keep working after a deploy. Telegram refuses callback data
 * over 64 bytes: a definition whose longest possible string is longer fails when it is created
 * (at start-up, and in the registry test), and `pack` checks every string again.
 */

export const CALLBACK_DATA_MAX_BYTES = 64;

const SEPARATOR = ":";

export class CallbackDataError extends Error {
  override readonly name = "CallbackDataError";
}

/** How one value is written into callback data and read back. */
export interface CallbackField<T> {
  /** A regular expression source matching exactly the written values (no capturing groups). */
  readonly pattern: string;
  /** The longest written value, in bytes. */
  readonly maxBytes: number;
  /** Writes a value; throws CallbackDataError for a value this field cannot carry. */
  encode(value: T): string;
  /** Reads a value that matched `pattern`. */
  decode(raw: string): T;
  /** Values that cover the field's range, the longest among them: for the registry test. */
  readonly samples: readonly T[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** One of a fixed list of words (a language, a role, a menu item). */
function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
): CallbackField<V[number]> {
  for (const v of values) {
    if (v === "" || v.includes(SEPARATOR)) {
      throw new CallbackDataError(
        `callback value "${v}" must be non-empty and without "${SEPARATOR}"`,
      );
    }
  }
  const allowed = new Set<string>(values);
  return {
    pattern: `(?:${values.map(escapeRegExp).join("|")})`,
    maxBytes: Math.max(...values.map(bytes)),
    encode(value) {
      if (!allowed.has(value)) throw new CallbackDataError(`"${value}" is not one of ${values}`);
      return value;
    },
    decode: (raw) => raw as V[number],
    samples: values,
  };
}

/**
 * A non-negative integer (a database id) of at most `maxDigits` digits. Leading zeros are read
 * as the buttons of old did (`\d{1,n}`), though never written.
 */
function int(options: { maxDigits?: number } = {}): CallbackField<number> {
  const maxDigits = options.maxDigits ?? 15;
  if (!Number.isInteger(maxDigits) || maxDigits < 1 || maxDigits > 15) {
    throw new CallbackDataError("an integer field has 1 to 15 digits (safe integers)");
  }
  const limit = 10 ** maxDigits;
  return {
    pattern: `\\d{1,${maxDigits}}`,
    maxBytes: maxDigits,
    encode(value) {
      if (!Number.isSafeInteger(value) || value < 0 || value >= limit) {
        throw new CallbackDataError(`${value} is not an integer of at most ${maxDigits} digits`);
      }
      return String(value);
    },
    decode: (raw) => Number(raw),
    samples: [0, limit - 1],
  };
}

/** Yes or no, written as 1 or 0. */
function flag(): CallbackField<boolean> {
  return {
    pattern: "[01]",
    maxBytes: 1,
    encode: (value) => (value ? "1" : "0"),
    decode: (raw) => raw === "1",
    samples: [true, false],
  };
}

/** A short id made of `a-z`, `0-9` and `-` (an FAQ entry id), of 1 to `maxLength` characters. */
function slug(options: { maxLength: number }): CallbackField<string> {
  const { maxLength } = options;
  const valid = new RegExp(`^[a-z0-9-]{1,${maxLength}}$`);
  return {
    pattern: `[a-z0-9-]{1,${maxLength}}`,
    maxBytes: maxLength,
    encode(value) {
      if (!valid.test(value)) {
        throw new CallbackDataError(`"${value}" is not an id of at most ${maxLength} characters`);
      }
      return value;
    },
    decode: (raw) => raw,
    samples: ["a", "a".repeat(maxLength)],
  };
}

export const field = { oneOf, int, flag, slug } as const;

// biome-ignore lint/suspicious/noExplicitAny: the value type of each field is inferred per key.
type Fields = Record<string, CallbackField<any>>;

export type CallbackValues<F extends Fields> = {
  [K in keyof F]: F[K] extends CallbackField<infer T> ? T : never;
};

/** Values a filter narrows each field to: one value or a few. */
export type CallbackFilter<F extends Fields> = {
  [K in keyof F]?: CallbackValues<F>[K] | readonly CallbackValues<F>[K][];
};

type PackArgs<F extends Fields> = keyof F extends never ? [] : [values: CallbackValues<F>];

export interface CallbackData<F extends Fields> {
  readonly prefix: string;
  /** The longest string this definition packs, in bytes (at most 64). */
  readonly maxBytes: number;
  /** The string a button carries; throws CallbackDataError if a value does not fit its field. */
  pack(...values: PackArgs<F>): string;
  /** Whether `pack` would succeed (a button whose id is too long is left out, not sent). */
  canPack(...values: PackArgs<F>): boolean;
  /** The values in `data`, or undefined when it is not this button's (stale, forged, other). */
  match(data: string): CallbackValues<F> | undefined;
  /** The values in `data`; throws when it is not this button's (use after `filter()` matched). */
  unpack(data: string): CallbackValues<F>;
  /**
   * An anchored RegExp for exactly the strings this definition unpacks, optionally narrowed to
   * some values (`filter({ action: ["keep", "skip"] })`), with one capturing group per field.
   */
  filter(narrow?: CallbackFilter<F>): RegExp;
  /** Every combination of the fields' samples, packed and unpacked by the registry test. */
  samples(): CallbackValues<F>[];
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds definitions of every shape.
const registry: CallbackData<any>[] = [];

/** Every definition made so far (all of them once the features are imported). */
export function callbackDataRegistry(): readonly CallbackData<Fields>[] {
  return registry;
}

/**
 * Defines the callback data of a button: `callbackData("lang", { locale: field.oneOf(["ky",
 * "ru", "en"]) })` packs `{ locale: "ky" }` as "lang:ky". Without fields it is a constant
 * (`callbackData("topics:done")`). Throws when the longest possible string exceeds 64 bytes.
 */
export function callbackData<F extends Fields = Record<never, never>>(
  prefix: string,
  fields: F = {} as F,
): CallbackData<F> {
  if (!/^[a-z][a-z0-9_:-]*$/.test(prefix) || prefix.endsWith(SEPARATOR)) {
    throw new CallbackDataError(`bad callback data prefix "${prefix}"`);
  }
  const names = Object.keys(fields) as (keyof F & string)[];
  const entries = names.map((name) => [name, fields[name]!] as const);
  const maxBytes = entries.reduce((n, [, f]) => n + bytes(SEPARATOR) + f.maxBytes, bytes(prefix));
  if (maxBytes > CALLBACK_DATA_MAX_BYTES) {
    throw new CallbackDataError(
      `callback data "${prefix}" can be ${maxBytes} bytes long; Telegram allows ${CALLBACK_DATA_MAX_BYTES}`,
    );
  }

  function source(narrow?: CallbackFilter<F>): string {
    const parts = entries.map(([name, f]) => {
      const wanted = narrow?.[name];
      if (wanted === undefined) return `(${f.pattern})`;
      const list = (Array.isArray(wanted) ? wanted : [wanted]) as CallbackValues<F>[typeof name][];
      return `(${list.map((v) => escapeRegExp(f.encode(v))).join("|")})`;
    });
    return `^${[escapeRegExp(prefix), ...parts].join(SEPARATOR)}$`;
  }
  const exact = new RegExp(source());

  function pack(...args: PackArgs<F>): string {
    const values = (args[0] ?? {}) as CallbackValues<F>;
    const data = [prefix, ...entries.map(([name, f]) => f.encode(values[name]))].join(SEPARATOR);
    if (bytes(data) > CALLBACK_DATA_MAX_BYTES) {
      throw new CallbackDataError(
        `callback data "${data}" is over ${CALLBACK_DATA_MAX_BYTES} bytes`,
      );
    }
    return data;
  }

  function match(data: string): CallbackValues<F> | undefined {
    const m = exact.exec(data);
    if (!m) return undefined;
    const values = {} as CallbackValues<F>;
    entries.forEach(([name, f], i) => {
      values[name] = f.decode(m[i + 1]!);
    });
    return values;
  }

  const definition: CallbackData<F> = {
    prefix,
    maxBytes,
    pack,
    canPack(...args) {
      try {
        pack(...args);
        return true;
      } catch (error) {
        if (error instanceof CallbackDataError) return false;
        throw error;
      }
    },
    match,
    unpack(data) {
      const values = match(data);
      if (!values) throw new CallbackDataError(`"${data}" is not "${prefix}" callback data`);
      return values;
    },
    filter: (narrow) => (narrow ? new RegExp(source(narrow)) : exact),
    samples() {
      let combos: Record<string, unknown>[] = [{}];
      for (const [name, f] of entries) {
        combos = combos.flatMap((c) => f.samples.map((s) => ({ ...c, [name]: s })));
      }
      return combos as CallbackValues<F>[];
    },
  };
  registry.push(definition);
  return definition;
}

/** One RegExp for the buttons of several definitions (a step that accepts any of them). */
export function anyOf(...filters: (CallbackData<Fields> | RegExp)[]): RegExp {
  return new RegExp(
    filters.map((f) => `(?:${(f instanceof RegExp ? f : f.filter()).source})`).join("|"),
  );
}
