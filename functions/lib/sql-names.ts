// camelCase in the API, snake_case in PostgreSQL: the one mapping between them.

/** `window_seconds` → `windowSeconds` */
export const toCamel = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `windowSeconds` → `window_seconds` */
export const toSnake = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Double-quotes an SQL identifier (all ours are plain snake_case; the quoting keeps reserved words like `time` safe). */
export const ident = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return `"${name}"`;
};
