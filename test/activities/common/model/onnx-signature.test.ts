import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  signatureFrom,
  signatureMismatches,
  type ValueMetadata,
} from '../../../../activities/common/model/onnx-signature';
import type { OnnxSignature } from '../../../../activities/refs';

const inputs: ValueMetadata[] = [{ name: 'float_input', isTensor: true, type: 'float32', shape: ['batch', 20] }];
const outputs: ValueMetadata[] = [
  { name: 'label', isTensor: true, type: 'int64', shape: [-1] },
  { name: 'probabilities', isTensor: true, type: 'float32', shape: ['batch', 2] },
];

describe('signatureMismatches', () => {
  it('accepts a declaration with symbolic sizes, null sizes or no shape at all', () => {
    const declared: OnnxSignature = {
      inputs: [{ name: 'float_input', type: 'float32', shape: ['N', 20] }],
      outputs: [
        { name: 'label', type: 'int64', shape: [null] },
        { name: 'probabilities', type: 'float32' },
      ],
      classes: ['good', 'bad'],
    };
    assert.deepEqual(signatureMismatches(declared, inputs, outputs), []);
  });

  it('names each mismatched input and output in one sentence', () => {
    const declared: OnnxSignature = {
      inputs: [{ name: 'float_input', type: 'float64', shape: [null, 21] }],
      outputs: [
        { name: 'label', type: 'string' },
        { name: 'probabilities', type: 'float32', shape: [null, 2] },
      ],
      classes: ['a', 'b', 'c'],
    };
    assert.deepEqual(signatureMismatches(declared, inputs, outputs), [
      "input 'float_input': declared float64, the model has float32",
      "input 'float_input': declared shape [?, 21], the model has [batch, 20]",
      "output 'label': declared string, the model has int64",
      "3 classes are declared but the output 'probabilities' has 2 columns",
    ]);
  });

  it('explains that a non-tensor output, such as a ZipMap, cannot be declared', () => {
    const declared: OnnxSignature = {
      inputs: [{ name: 'float_input', type: 'float32' }],
      outputs: [{ name: 'output_probability', type: 'float32' }],
    };
    const problems = signatureMismatches(declared, inputs, [{ name: 'output_probability', isTensor: false }]);
    assert.match(problems[0]!, /output 'output_probability' is not a tensor in the model/);
  });
});

describe('signatureFrom', () => {
  it('reads unknown sizes as null and keeps symbolic names', () => {
    assert.deepEqual(signatureFrom(inputs, outputs, ['good', 'bad']), {
      inputs: [{ name: 'float_input', type: 'float32', shape: ['batch', 20] }],
      outputs: [
        { name: 'label', type: 'int64', shape: [null] },
        { name: 'probabilities', type: 'float32', shape: ['batch', 2] },
      ],
      classes: ['good', 'bad'],
    });
  });
});
