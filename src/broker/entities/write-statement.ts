/**
 * The one SQL statement that writes a group of entity changes and what follows from them, so that a
 * write costs one round trip to the database however many tables it touches (on a host where each
 * round trip is a costly system call, that is most of a write's cost).
 *
 * The store adds the entity and geometry writes as data-modifying CTEs, one of them `written`
 * (id, attrs): the entities the statement really wrote, with their attributes as written (as they
 * were, for a deletion); a creation whose id turned out to exist is not among them. Each consumer of
 * the changes adds CTEs of its own that keep to `written`, or columns of the final select that read
 * what it needs next. Every CTE sees the database as the statement found it; foreign keys are
 * checked when the whole statement is done.
 */
import type { Queryable } from '../../platform/index.ts';
import { SqlParams } from '../query/sql-params.ts';

export class WriteStatement {
  readonly params = new SqlParams();
  readonly #ctes: string[] = [];
  readonly #columns: string[] = ['array(select id from written) as written'];

  /** Adds the CTE `name as (sql)`; a later one may read an earlier one. */
  with(name: string, sql: string): this {
    this.#ctes.push(`${name} as (${sql})`);
    return this;
  }

  /** Adds `expression as name` to the final select, read back with `run`. */
  column(name: string, expression: string): this {
    this.#columns.push(`${expression} as ${name}`);
    return this;
  }

  /** Runs the statement: its one row, with `written` and every column added. */
  async run<T extends object>(tx: Queryable): Promise<T & { written: string[] }> {
    const { rows } = await tx.query<T & { written: string[] }>(
      `with ${this.#ctes.join(',\n')}\nselect ${this.#columns.join(', ')}`,
      this.params.values,
      // The same few shapes (create, update, batch, with or without geometry) over and over.
      { prepare: true },
    );
    return rows[0] as T & { written: string[] };
  }
}
