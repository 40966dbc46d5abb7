// A strict JSON parser for safetensors headers. JSON.parse silently keeps the
// last of duplicate keys; a header with two entries for one tensor is refused
// here instead. Objects become Maps so keys like "__proto__" stay plain data.

import { CheckpointError, printable } from './errors';

export type JsonValue = null | boolean | number | string | JsonValue[] | Map<string, JsonValue>;

const MAX_DEPTH = 64;

export function parseStrictJson(text: string, what: string): JsonValue {
  let pos = 0;

  const fail = (why: string): never => {
    throw new CheckpointError(`${what}: ${why} at character ${pos}`);
  };

  const skipSpace = (): void => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos])) pos++;
  };

  const parseString = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\') pos++;
      pos++;
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      pos = start;
      return fail('invalid string');
    }
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const object = new Map<string, JsonValue>();
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return object;
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') fail('expected a key');
        const key = parseString();
        if (object.has(key)) fail(`duplicate key '${printable(key, 80)}'`);
        skipSpace();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        object.set(key, parseValue(depth + 1));
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return object;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const array: JsonValue[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return array;
      }
      for (;;) {
        array.push(parseValue(depth + 1));
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return array;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (number) {
      pos += number[0].length;
      return Number(number[0]);
    }
    return fail('unexpected character');
  };

  const value = parseValue(0);
  skipSpace();
  if (pos !== text.length) fail('trailing characters');
  return value;
}
