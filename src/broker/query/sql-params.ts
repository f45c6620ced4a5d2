/**
 * Collects the parameters of one SQL statement: every value a client sent goes in as a `$n`
 * parameter, never into the SQL text.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder, e.g. `$3`. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
