// Looks at raw JSON text before it is parsed: JSON.parse keeps the last of duplicate keys (so two
// parsers can disagree about a body: a classic smuggling trick), recurses as deep as it is told,
// and creates own `__proto__` properties that later merges may turn into prototype pollution.

export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface JsonIssue {
  path: string;
  message: string;
}

interface Frame {
  object: boolean;
  keys: Set<string>;
  expectKey: boolean;
  key: string;
}

/** The first problem found, or null. Invalid JSON is left to JSON.parse to report. */
export function inspectJson(text: string, maxDepth: number): JsonIssue | null {
  const stack: Frame[] = [];
  const path = (frames: Frame[] = stack) =>
    frames
      .map((frame) => frame.key)
      .filter(Boolean)
      .join('.');
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.object && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          return null;
        }
        const parent = path(stack.slice(0, -1));
        if (FORBIDDEN_KEYS.has(key)) return { path: parent, message: `the key "${key}" is not allowed` };
        if (top.keys.has(key)) return { path: parent, message: `duplicate key "${key}"` };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      if (stack.length >= maxDepth) {
        return { path: path(), message: `nested deeper than ${maxDepth} levels` };
      }
      stack.push({ object: char === '{', keys: new Set(), expectKey: char === '{', key: '' });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      const top = stack.at(-1);
      if (top?.object) top.expectKey = true;
    }
  }
  return null;
}
