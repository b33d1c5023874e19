/** Largest number a path or query number may be: PostgreSQL's `integer`, which chunk indexes are stored as. */
export const MAX_PARAM_NUMBER = 2_147_483_647;

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/**
 * The one rule for numbers in paths and queries: decimal digits only, no sign, no leading zero,
 * at most {@link MAX_PARAM_NUMBER}. `0x1`, `1e1`, `00`, ` 1`, `-1` and `1.0` are not numbers here.
 * @returns the number, or undefined for anything else (a repeated query parameter, an array, included).
 */
export function parseDecimalParam(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !DECIMAL.test(raw) || raw.length > String(MAX_PARAM_NUMBER).length) return undefined;
  const value = Number(raw);
  return value <= MAX_PARAM_NUMBER ? value : undefined;
}
