import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { testContext } from './step-context';

let files = 0;

/** Writes `text` to a new file named `input-<n>.<extension>` in the context's folder and returns its path; for tests. */
export async function writeInput(
  ctx: Awaited<ReturnType<typeof testContext>>,
  extension: string,
  text: string | Buffer,
): Promise<string> {
  const path = join(ctx.artifacts.root, `input-${files++}.${extension}`);
  await writeFile(path, text);
  return path;
}

/** Asserts a non-retryable InvalidData failure whose message matches. */
export async function rejectsWith(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, 'InvalidData');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, message);
    return true;
  });
}
