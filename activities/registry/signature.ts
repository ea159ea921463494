import type { ModelSpec } from '../common/model/model';

/** A model's signature: the raw columns it reads (from its fitted transform) and what it outputs. */
export function modelSignature(model: ModelSpec): Record<string, unknown> {
  return {
    inputs: model.transform.spec.features.map((f) =>
      f.type === 'categorical'
        ? { name: f.name, type: 'string', categories: f.categories }
        : { name: f.name, type: 'number' },
    ),
    output: {
      task: model.task,
      label: model.label,
      classes: model.classes,
      ...(model.task === 'binary' ? { positiveClass: model.classes[1] } : {}),
      score: 'class probabilities, in the order of classes',
    },
    transform: model.transform.sha256,
  };
}
