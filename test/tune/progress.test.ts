import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapProgress, renderStatus } from '../../cli/render';
import type { NodeSnapshot, RunSnapshot } from '../../workflows/protocol';

const map = (status: NodeSnapshot['status'], items = 4): NodeSnapshot => ({
  id: 'trials',
  type: 'map',
  status,
  attempts: 0,
  items,
});
const step = (id: string, status: NodeSnapshot['status'], output?: unknown): NodeSnapshot => ({
  id,
  type: 'step',
  step: 'x',
  status,
  attempts: 1,
  ...(output ? { output } : {}),
});
const recorded = (value: number, goal: 'max' | 'min' = 'max') => ({
  trial: {},
  objective: { metric: 'rocAuc', goal, value },
});

describe('map progress in the live view', () => {
  it('counts an instance as done once every node in it succeeded, out of the items the map fanned out to', () => {
    const nodes = [
      map('running'),
      step('trials[0].train', 'succeeded'),
      step('trials[0].evaluate', 'succeeded'),
      step('trials[1].train', 'succeeded'),
      step('trials[1].evaluate', 'running'),
      step('trials[2].train', 'running'),
      step('trials[2].evaluate', 'pending'),
    ];
    assert.equal(mapProgress(nodes[0]!, nodes), '1 of 4 done');
  });

  it('shows the best objective reported so far and its trial, by the goal the steps report', () => {
    const nodes = [
      map('running'),
      step('trials[0].record', 'succeeded', recorded(0.71)),
      step('trials[1].record', 'succeeded', recorded(0.78)),
      step('trials[2].record', 'succeeded', recorded(0.74)),
      step('trials[3].record', 'running'),
    ];
    assert.equal(mapProgress(nodes[0]!, nodes), '3 of 4 done, best so far rocAuc 0.78 (trial 1)');
    const losses = nodes.map((n) =>
      n.output ? { ...n, output: recorded((n.output as ReturnType<typeof recorded>).objective.value, 'min') } : n,
    );
    assert.equal(mapProgress(losses[0]!, losses), '3 of 4 done, best so far rocAuc 0.71 (trial 0)');
  });

  it('says best, not so far, once the map has succeeded; other maps and steps are not counted', () => {
    const nodes = [
      map('succeeded', 2),
      step('trials[0].record', 'succeeded', recorded(0.7)),
      step('trials[1].record', 'succeeded', recorded(0.7)),
      step('trials2[0].record', 'succeeded', recorded(0.9)),
      step('trials', 'succeeded', recorded(0.95)),
    ];
    assert.equal(mapProgress(nodes[0]!, nodes), '2 of 2 done, best rocAuc 0.7 (trial 0)');
    assert.equal(mapProgress(nodes[1]!, nodes), undefined, 'a step has no map progress');
  });

  it('prints the progress on the map line of the run status', () => {
    const status: RunSnapshot = {
      pipeline: 'tuned',
      planHash: 'f'.repeat(64),
      status: 'running',
      startedAt: new Date().toISOString(),
      generation: 0,
      nodes: [
        map('running', 2),
        step('trials[0].record', 'succeeded', recorded(0.8)),
        step('trials[1].record', 'running'),
      ],
    };
    assert.match(
      renderStatus(status).split('\n')[1]!,
      /trials .*running .*1 of 2 done, best so far rocAuc 0.8 \(trial 0\)$/,
    );
  });
});
