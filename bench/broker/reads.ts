/**
 * (b) GET /ngsi-ld/v1/entities/{id} against a bare Fastify route that answers the same JSON from
 * memory: what the broker's whole read path (rate limit, tenant, @context, transaction, query,
 * rendering) costs over serving the answer alone.
 */
import { startChild } from '../child.ts';
import { type BrokerBench, READ_HEADERS } from './bench.ts';
import { bestOf, type Contender, fetchOk, httpThroughput } from './load.ts';
import { type BrokerRow, throughputRow } from './report.ts';

const TARGET = 0.5;

function getById(bench: BrokerBench, base: string, label: string, ids: string[]): Contender {
  return {
    label,
    run: (seconds) =>
      httpThroughput(
        {
          url: `${base}/ngsi-ld/v1/entities/x`,
          headers: READ_HEADERS,
          next: () => ({
            path: `/ngsi-ld/v1/entities/${encodeURIComponent(ids[Math.floor(Math.random() * ids.length)] as string)}`,
          }),
        },
        bench.settings.connections,
        seconds,
      ),
  };
}

export async function measureReads(bench: BrokerBench): Promise<BrokerRow[]> {
  const { rows } = await bench.pool.query<{ id: string }>(
    'select id from broker.entities where id like $1 order by id limit 1000',
    [`urn:ngsi-ld:Shelter:${bench.tag}-http-%`],
  );
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) {
    throw new Error('(b) needs the entities (a) created, and found none');
  }
  const answer = await fetchOk(`${bench.machi}/ngsi-ld/v1/entities/${encodeURIComponent(ids[0] as string)}`, {
    headers: READ_HEADERS,
  });
  const bare = await startChild<{ port: number }>('./broker/server.ts', ['bare'], {
    BENCH_BROKER_BODY: answer,
  });
  try {
    bench.log(`  (b) GET one entity (${answer.length} bytes), ${bench.settings.connections} connections`);
    const { baseline, machi, unlimited } = await bestOf(
      {
        baseline: getById(bench, `http://127.0.0.1:${bare.message.port}`, 'bare Fastify, from memory', ids),
        machi: getById(bench, bench.machi, 'Machi GET /entities/{id}', ids),
        unlimited: getById(bench, bench.machiUnlimited, 'Machi GET, no rate limit', ids),
      },
      bench.settings,
      bench.log,
    );
    return [
      throughputRow('broker (b) retrieve entity', 'req/s', baseline, machi, TARGET),
      throughputRow(
        'broker (b) retrieve entity, rate limiting off',
        'req/s',
        baseline,
        unlimited,
        TARGET,
        'the same with RATE_LIMIT_MAX=0',
      ),
    ];
  } finally {
    await bare.stop();
  }
}
