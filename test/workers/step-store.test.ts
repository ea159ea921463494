import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifacts/store';
import { implement } from '../../activities/library';
import { defineStep } from '../../dsl';
import { openStore, type Store } from '../../store';
import { startRun } from '../support/store-fixtures';
import type { StepEnvelope, StepRequest } from '../../workflows/protocol';
import { stepActivities } from '../../workers/step-activities';

const probe = defineStep({
  name: 'test.probeStore',
  version: '1',
  input: z.object({}),
  output: z.object({ reachable: z.array(z.string()) }),
});

describe('the store a step gets', () => {
  let store: Store;
  let dir: string;
  before(async () => {
    store = await openStore({ dir: 'memory://' });
    dir = await mkdtemp(join(tmpdir(), 'kiln-step-store-'));
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('offers the registry, experiment and lineage methods and none of principals or tokens', async () => {
    await startRun(store, 'probe-run');
    const impl = implement(probe, async (_input, ctx) => {
      const reachable = [
        'getModelVersion',
        'recordTrial',
        'promote',
        'createToken',
        'createPrincipal',
        'revokeToken',
        'authenticate',
        'db',
      ].filter((name) => typeof (ctx.store as unknown as Record<string, unknown>)[name] !== 'undefined');
      // What it offers works against the real store.
      assert.equal((await ctx.store!.getRun('probe-run'))?.id, 'probe-run');
      return { reachable };
    });
    const activities = stepActivities([impl], { artifacts: new ArtifactStore(dir), store });
    const request: StepRequest = {
      input: {},
      context: {
        workflowId: 'probe-run',
        runId: 'r',
        pipeline: 'probe',
        planHash: 'h',
        node: 'probe',
        step: { name: 'test.probeStore', version: '1' },
        cache: false,
      },
    };
    const envelope = (await new MockActivityEnvironment().run(activities['test.probeStore']!, request)) as StepEnvelope;
    assert.deepEqual(envelope.output, { reachable: ['getModelVersion', 'recordTrial', 'promote'] });
  });
});
