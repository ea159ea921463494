import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifacts/store';
import { mapProgress } from '../../cli/render';
import { implement } from '../../activities/library';
import { DEFAULT_MAP_PARALLELISM, LIGHT_MAP_ITEMS, defineStep, pipeline } from '../../dsl';
import type { RunInput, ValuesRef } from '../../workflows/protocol';
import { engine } from '../fixtures/engine';
import { add, list, testSteps } from '../fixtures/steps';
import { historyChain } from '../support/history-chain';

const total = defineStep({
  name: 'test.total',
  version: '1',
  input: z.object({ values: z.array(z.number()) }),
  output: z.object({ total: z.number(), count: z.number() }),
});
const gauge = defineStep({
  name: 'test.gauge',
  version: '1',
  input: z.object({ ms: z.number() }),
  output: z.object({ ok: z.boolean() }),
});
let running = 0;
let most = 0;

let kiln: Awaited<ReturnType<typeof engine>>;
before(async () => {
  kiln = await engine([
    ...testSteps,
    implement(total, async ({ values }) => ({ total: values.reduce((a, b) => a + b, 0), count: values.length })),
    implement(gauge, async ({ ms }) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return { ok: true };
    }),
  ]);
});
after(async () => {
  await kiln?.stop();
});

const ITEMS = 10_000;

describe('a map over a list sized at run time', () => {
  it('runs ten thousand items to completion, passing their joined results by reference', async () => {
    const wide = pipeline({ name: 'wide-map' }, (p) => {
      const items = p.step(list, { n: ITEMS });
      const sums = p.map(items.items, (item) => p.step(add, { a: item.x, b: 1 }).sum, { id: 'items' });
      return { sums, total: p.step(total, { values: sums }) };
    });
    const started = Date.now();
    const handle = await kiln.start(wide, {}, { cache: false });
    const result = await handle.result();
    const seconds = (Date.now() - started) / 1000;

    const output = result.output as { sums: ValuesRef; total: { total: number; count: number } };
    // The step after the map got the whole list, in order.
    assert.deepEqual(output.total, { total: (ITEMS * (ITEMS + 1)) / 2, count: ITEMS });
    assert.equal(output.sums.$kilnValues.count, ITEMS);
    const values = await new ArtifactStore(kiln.artifactsDir).readJson<number[]>(output.sums.$kilnValues.uri);
    assert.deepEqual(
      values,
      Array.from({ length: ITEMS }, (_, i) => i + 1),
    );

    // `kiln run` counts the items done across generations, though only the last one's nodes are listed.
    const map = result.nodes.find((n) => n.id === 'items')!;
    assert.ok(result.nodes.filter((n) => n.id.startsWith('items[')).length < ITEMS);
    assert.equal(mapProgress(map, result.nodes), `${ITEMS} of ${ITEMS} done`);

    const chain = await historyChain(kiln.client, handle.workflowId, handle.firstExecutionRunId);
    console.log(`${ITEMS} items in ${seconds.toFixed(1)} s; generations: ${JSON.stringify(chain)}`);
    assert.ok(chain.length > 1, 'the run continued as new');
    for (const g of chain) {
      // Temporal warns past 10,240 events and fails a workflow past 51,200 events or 50 MB.
      assert.ok(g.events < 10_240, `a generation of ${g.events} events`);
      assert.ok(g.bytes < 50 * 1024 * 1024, `a generation of ${g.bytes} bytes`);
      // Payloads warn at 256 KB (the list mapped over is 110 KB of it here).
      assert.ok(g.inputBytes < 256 * 1024, `a generation started with ${g.inputBytes} bytes of input`);
    }
    // What continue-as-new carries does not grow with the items done: their results are references.
    const growth = chain.at(-1)!.inputBytes - chain[1]!.inputBytes;
    assert.ok(growth < 4096, `the carried input grew by ${growth} bytes over ${chain.length} generations`);
    const last = JSON.parse(
      Buffer.from(
        (await kiln.client.workflow.getHandle(handle.workflowId).fetchHistory()).events![0]!
          .workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!,
      ).toString(),
    ) as RunInput;
    assert.ok(
      !last.resume?.finished.some((n) => n.id.startsWith('items[')),
      'finished items are not carried one by one',
    );
  });

  it(`runs at most ${DEFAULT_MAP_PARALLELISM} items at once when the map names no parallelism`, async () => {
    const fan = pipeline({ name: 'default-lanes' }, (p) => {
      const items = p.step(list, { n: DEFAULT_MAP_PARALLELISM * 2 });
      return p.map(items.items, () => p.step(gauge, { ms: 1500 }).ok);
    });
    most = 0;
    const result = await (await kiln.start(fan, {}, { cache: false })).result();
    assert.equal((result.output as boolean[]).length, DEFAULT_MAP_PARALLELISM * 2);
    assert.equal(most, DEFAULT_MAP_PARALLELISM);
  });

  it(`runs light steps as regular activities in a map of more than ${LIGHT_MAP_ITEMS} items`, async () => {
    // Their results would all ride in one workflow task, past the 4 MB a task completion may send.
    const n = LIGHT_MAP_ITEMS + 1;
    const light = pipeline({ name: 'light-wide-map' }, (p) => {
      const items = p.step(list, { n });
      return p.map(items.items, (item) => p.step(add, { a: item.x, b: 1 }, { light: true }).sum);
    });
    const handle = await kiln.start(light, {}, { cache: false });
    const result = await handle.result();
    assert.deepEqual(
      result.output,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
    const markers = events.filter((e) => e.markerRecordedEventAttributes).length;
    assert.equal(scheduled, n + 1, 'the list step and every item as an activity task');
    assert.ok(markers < 50, `only the run's patches and own local activities are markers, got ${markers}`);
  });
});
