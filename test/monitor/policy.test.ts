import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MonitorPolicyError, parsePolicy } from '../../monitor/policy';

// Policy files as `kiln monitor create --policy` reads them: defaults filled in, and every refusal
// naming the field and what would fix it.

const yaml = `every: 15m
features:
  credit_amount: { test: psi, threshold: 0.2 }
actions:
  alert: { webhook: "https://hooks.example.com/kiln" }
  retrain: { pipeline: examples/credit-risk.ts, params: { epochs: 50 } }
  rollback: true
`;

describe('monitor policy', () => {
  it('reads YAML and fills in the defaults', () => {
    assert.deepEqual(parsePolicy(yaml, 'monitor.yaml'), {
      every: '15m',
      minRows: 100,
      driftShare: 0.5,
      features: { credit_amount: { test: 'psi', threshold: 0.2 } },
      actions: {
        alert: { webhook: 'https://hooks.example.com/kiln' },
        retrain: { pipeline: 'examples/credit-risk.ts', params: { epochs: 50 } },
        rollback: true,
      },
      cooldown: '1h',
    });
  });

  it('reads JSON', () => {
    assert.equal(parsePolicy('{"actions": {}, "minRows": 20}', 'p.json').minRows, 20);
  });

  it('names each bad field by its path', () => {
    assert.throws(
      () => parsePolicy('every: soon\nminRows: 0\nactions: { rollback: yes please }\n', 'm.yaml'),
      (error: Error) =>
        error instanceof MonitorPolicyError &&
        /every: must be a duration/.test(error.message) &&
        /minRows: /.test(error.message) &&
        /actions\.rollback: /.test(error.message),
    );
    assert.throws(
      () => parsePolicy('actions: {}\nfeatures: { age: { test: t } }\n', 'm.yaml'),
      /features\.age\.test: /,
    );
    assert.throws(() => parsePolicy('actions: {}\ncooldwn: 1h\n', 'm.yaml'), /cooldwn/);
    assert.throws(() => parsePolicy('every: 10m\n', 'm.yaml'), /actions: /);
  });

  it('refuses webhooks that are not http(s), or carry credentials', () => {
    for (const [url, reason] of [
      ['file:///etc/passwd', /'file:' URLs are refused/],
      ['gopher://127.0.0.1/', /'gopher:' URLs are refused/],
      ['not a url', /is not a URL/],
      ['https://user:secret@hooks.example.com/', /holds credentials/],
    ] as const)
      assert.throws(
        () => parsePolicy(JSON.stringify({ actions: { alert: { webhook: url } } }), 'p.json'),
        (error: Error) => /actions\.alert\.webhook: /.test(error.message) && reason.test(error.message),
      );
  });

  it('refuses other file types and malformed text, naming the file', () => {
    assert.throws(() => parsePolicy('actions: {}', 'monitor.toml'), /monitor policy monitor\.toml: give a \.yaml/);
    assert.throws(() => parsePolicy('{"actions": ', 'p.json'), /monitor policy p\.json: is not valid JSON/);
    assert.throws(() => parsePolicy('actions: [', 'p.yaml'), /monitor policy p\.yaml: is not valid YAML/);
  });
});
