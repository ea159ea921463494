import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileChunks } from '../../../activities/common/file-chunks';

describe('fileChunks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-chunks-'));
  after(() => rm(dir, { recursive: true, force: true }));

  it('gives every byte once, in order, across chunk boundaries', async () => {
    const bytes = randomBytes(3 * 4096 + 17);
    const path = join(dir, 'bytes');
    await writeFile(path, bytes);
    const hash = createHash('sha256');
    const sizes: number[] = [];
    for await (const chunk of fileChunks(path, 4096)) {
      hash.update(chunk);
      sizes.push(chunk.byteLength);
    }
    assert.deepEqual(sizes, [4096, 4096, 4096, 17]);
    assert.equal(hash.digest('hex'), createHash('sha256').update(bytes).digest('hex'));
  });

  it('gives nothing for an empty file', async () => {
    const path = join(dir, 'empty');
    await writeFile(path, '');
    for await (const chunk of fileChunks(path)) assert.fail(`a chunk of ${chunk.byteLength} bytes`);
  });

  it('fails for a file that is not there, naming it', async () => {
    const path = join(dir, 'missing');
    await assert.rejects(
      async () => {
        for await (const _ of fileChunks(path));
      },
      new RegExp(`ENOENT.*${path}`),
    );
  });
});
