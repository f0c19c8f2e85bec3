/**
 * Parsing dominates a hot read (routing reads every module's entries per robot), so the last parse
 * of each field is kept and reused while Redis returns the same text. Callers get shared values and
 * must not mutate them.
 */
export class ParseMemo<T> {
  private readonly parsed = new Map<string, { raw: string; value: T }>();

  parse(field: string, raw: string): T {
    const hit = this.parsed.get(field);
    if (hit && hit.raw === raw) return hit.value;
    const value = JSON.parse(raw) as T;
    this.parsed.set(field, { raw, value });
    return value;
  }

  /** Forgets fields that no longer exist, so the memo never outgrows the hash. */
  retain(fields: Iterable<string>): void {
    const keep = new Set(fields);
    for (const field of this.parsed.keys()) if (!keep.has(field)) this.parsed.delete(field);
  }
}
