import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import { readCsv } from '../../activities/steps';
import { pipeline } from '../../dsl';
import type { Store } from '../../store';
import type { ArtifactNode, StepNode } from '../../store/lineage/graph';
import { testBackends } from '../support/backends';
import { statusQuery } from '../../workflows';
import type { NodeSnapshot } from '../../workflows/protocol';
import { engine } from '../fixtures/engine';
import { digest, executions, testSteps } from '../fixtures/steps';
import { SYSTEM } from '../../store/access';

const CSV = 'age,income,class\n31,4100,good\n45,2900,bad\n27,3600,good\n52,5100,good\n';

const cachedPipeline = pipeline(
  { name: 'store-cache', params: z.object({ path: z.string(), key: z.string(), freshKey: z.string() }) },
  (p, params) => {
    const raw = p.step(readCsv, { path: params.path, label: 'class' });
    const kept = p.step(digest, { dataset: raw.dataset, key: params.key });
    const fresh = p.step(digest, { dataset: raw.dataset, key: params.freshKey }, { id: 'uncached', cache: false });
    return { report: kept.report, fresh: fresh.report, dataset: raw.dataset };
  },
);

const nodeOf = (nodes: NodeSnapshot[], id: string) => nodes.find((n) => n.id === id)!;

for (const backend of testBackends()) {
  describe(`cached steps on Temporal, recorded in the store (${backend.name})`, () => {
    let store: Store;
    let kiln: Awaited<ReturnType<typeof engine>>;
    let dir: string;
    let params: { path: string; key: string; freshKey: string };
    let fileSha: string;
    const counts = () => executions.get(params.key) ?? 0;
    const freshCounts = () => executions.get(params.freshKey) ?? 0;
    before(async () => {
      store = await backend.open();
      kiln = await engine([...builtinSteps, ...testSteps], { store });
      dir = await mkdtemp(join(tmpdir(), 'kiln-cache-'));
      params = {
        path: join(dir, 'small.csv'),
        key: `cache-${backend.name}-${Date.now()}`,
        freshKey: `fresh-${backend.name}-${Date.now()}`,
      };
      await writeFile(params.path, CSV);
      fileSha = createHash('sha256').update(CSV).digest('hex');
    });
    after(async () => {
      await kiln?.stop();
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    });

    let first: string;
    let second: string;

    it('reuses a recorded result for the same input without running the step, and says where it came from', async () => {
      const one = await kiln.start(cachedPipeline, params);
      const firstResult = await one.result();
      first = one.workflowId;
      assert.equal(counts(), 1);
      assert.equal(freshCounts(), 1);
      assert.equal(nodeOf(firstResult.nodes, 'digest').cached, undefined);

      const two = await kiln.start(cachedPipeline, params);
      const secondResult = await two.result();
      second = two.workflowId;
      assert.equal(counts(), 1, 'the cached node did not run again');
      assert.equal(freshCounts(), 2, 'the node declared cache: false ran again');
      assert.deepEqual(
        (secondResult.output as { report: unknown }).report,
        (firstResult.output as { report: unknown }).report,
      );
      assert.deepEqual(nodeOf(secondResult.nodes, 'digest').cached, { runId: first, node: 'digest' });
      assert.equal(nodeOf(secondResult.nodes, 'digest').status, 'succeeded');
      assert.equal(nodeOf(secondResult.nodes, 'uncached').cached, undefined);
      assert.equal(nodeOf(secondResult.nodes, 'readCsv').cached, undefined);
      const status = await two.query(statusQuery);
      assert.deepEqual(nodeOf(status.nodes, 'digest').cached, { runId: first, node: 'digest' });
    });

    it('records the hit as cached, pointing at the execution it reused; steps declared cache: false as run again', async () => {
      const original = await store.steps.getStep(SYSTEM, { runId: first, nodeId: 'digest' });
      const hit = await store.steps.getStep(SYSTEM, { runId: second, nodeId: 'digest' });
      assert.equal(original?.status, 'succeeded');
      assert.equal(hit?.status, 'cached');
      assert.equal(hit?.cachedFrom, original!.id);
      assert.equal(hit?.cacheKey, original!.cacheKey);
      assert.deepEqual(hit?.output, original!.output);
      const rows = await store.steps.listSteps(SYSTEM, second);
      assert.deepEqual(rows.map((s) => [s.nodeId, s.status]).sort(), [
        ['digest', 'cached'],
        ['readCsv', 'succeeded'],
        ['uncached', 'succeeded'],
      ]);
      assert.equal(rows.find((s) => s.nodeId === 'readCsv')?.cacheKey, null);
      assert.equal(rows.find((s) => s.nodeId === 'uncached')?.cacheKey, null);
    });

    it('traces the reused output of the second run to the same CSV bytes through reused edges', async () => {
      const graph = await store.lineage.upstream(SYSTEM, `run:${second}`);
      const artifacts = graph.nodes.filter((n): n is ArtifactNode => n.type === 'artifact');
      const steps = graph.nodes.filter((n): n is StepNode => n.type === 'step');
      const file = artifacts.find((a) => a.sha256 === fileSha);
      assert.equal(file?.kind, 'file');
      const hit = steps.find((s) => s.runId === second && s.nodeId === 'digest')!;
      const original = steps.find((s) => s.runId === first && s.nodeId === 'digest');
      assert.equal(hit.status, 'cached');
      assert.ok(original, 'the execution the hit reused is in the graph');
      const report = (await store.steps.getStep(SYSTEM, { runId: second, nodeId: 'digest' }))!.output as {
        report: { sha256: string };
      };
      const dataset = artifacts.find((a) => a.kind === 'dataset')!;
      assert.ok(
        graph.edges.some(
          (e) => e.from === hit.id && e.to === `artifact:${report.report.sha256}` && e.type === 'reused',
        ),
        JSON.stringify(graph.edges),
      );
      assert.ok(graph.edges.some((e) => e.from === dataset.id && e.to === hit.id && e.type === 'input'));
      assert.ok(graph.edges.some((e) => e.from === hit.id && e.to === original.id && e.type === 'cached_from'));
      // From the report artifact: its producer is the first run, and the file is still upstream.
      const fromReport = await store.lineage.upstream(SYSTEM, report.report.sha256);
      assert.ok(fromReport.nodes.some((n) => n.type === 'artifact' && n.sha256 === fileSha));
    });

    it('runs the step again when the run turns the cache off', async () => {
      const before = counts();
      const handle = await kiln.start(cachedPipeline, params, { cache: false });
      const result = await handle.result();
      assert.equal(counts(), before + 1);
      assert.equal(nodeOf(result.nodes, 'digest').cached, undefined);
      assert.equal(
        (await store.steps.getStep(SYSTEM, { runId: handle.workflowId, nodeId: 'digest' }))?.status,
        'succeeded',
      );
    });

    it("runs the step again when the reused result's files are gone", async () => {
      const output = (await store.steps.getStep(SYSTEM, { runId: first, nodeId: 'digest' }))!.output as {
        report: { sha256: string };
      };
      await rm(new ArtifactStore(kiln.artifactsDir).pathOf(output.report.sha256));
      const before = counts();
      const handle = await kiln.start(cachedPipeline, params);
      const result = await handle.result();
      assert.equal(counts(), before + 1);
      assert.equal(nodeOf(result.nodes, 'digest').cached, undefined);
      assert.equal(
        (await store.steps.getStep(SYSTEM, { runId: handle.workflowId, nodeId: 'digest' }))?.status,
        'succeeded',
      );
      assert.ok(await new ArtifactStore(kiln.artifactsDir).has(`artifact:sha256:${output.report.sha256}`));
    });
  });
}
