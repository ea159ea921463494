import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadPlan } from '../../cli/load-pipeline';
import { compile, pipeline, planHash } from '../../dsl';
import { add } from '../fixtures/steps';

// A plan.json carries its hash, and runs and lineage are named by it: someone who edits a plan
// and keeps the old hash would run other steps under the name of a reviewed plan.

const dir = await mkdtemp(join(tmpdir(), 'kiln-plan-'));
after(() => rm(dir, { recursive: true, force: true }));

describe('loadPlan', () => {
  it("recomputes a plan.json's hash from its content and never trusts the one it carries", async () => {
    const reviewed = compile(pipeline({ name: 'sums' }, (p) => p.step(add, { a: 1, b: 2 })));
    const edited = structuredClone(reviewed);
    (edited.nodes[0] as { inputs: Record<string, unknown> }).inputs.b = { kind: 'literal', value: 40 };
    const path = join(dir, 'edited.json');
    await writeFile(path, JSON.stringify(edited));
    const { plan } = await loadPlan(path);
    const { hash: _carried, ...body } = edited;
    assert.equal(plan.hash, planHash(body));
    assert.notEqual(plan.hash, reviewed.hash);
  });

  it("names the user's path for a missing file, not Kiln's own module", async () => {
    await assert.rejects(loadPlan('pipelines/nope.ts'), (error: Error) => {
      assert.match(error.message, /^pipelines\/nope\.ts does not exist/);
      assert.doesNotMatch(error.message, /load-pipeline/);
      return true;
    });
  });
});
