import { useState, type FormEvent } from 'react';
import type { PipelineInfo, PipelineParam, StartRunRequest, StartRunResponse } from '../../../api';
import { api } from '../api-client';
import { ErrorNote } from './status';

/** A parameter typed in a text box, as the value the pipeline's schema expects. */
function parseParam(param: PipelineParam, text: string): unknown {
  if (param.type === 'number' || param.type === 'integer') {
    const n = Number(text);
    if (text.trim() === '' || Number.isNaN(n))
      throw new Error(`parameter '${param.name}' must be a number, not '${text}'`);
    return n;
  }
  if (param.type === 'boolean') return text === 'true';
  if (param.type === 'object' || param.type === 'array') {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new Error(`parameter '${param.name}' must be JSON (${param.type})`, { cause });
    }
  }
  return text;
}

const shown = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** Starts a run of a known pipeline (operator): parameters left blank take their defaults. */
export function StartRun({ pipelines, onStarted }: { pipelines: PipelineInfo[]; onStarted: (runId: string) => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(pipelines[0]?.name ?? '');
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error>();
  const pipeline = pipelines.find((p) => p.name === name);

  if (pipelines.length === 0) return null;
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Start a run…
      </button>
    );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const params: Record<string, unknown> = {};
      for (const param of pipeline?.params ?? []) {
        const text = values[param.name];
        if (text !== undefined && text !== '') params[param.name] = parseParam(param, text);
      }
      const body: StartRunRequest = { pipeline: name, params };
      onStarted((await api.post<StartRunResponse>('/runs', body)).runId);
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <form className="card start-run" onSubmit={submit}>
      <label>
        Pipeline
        <select
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setValues({});
          }}
        >
          {pipelines.map((p) => (
            <option key={p.name}>{p.name}</option>
          ))}
        </select>
      </label>
      {pipeline?.description && <p className="muted">{pipeline.description}</p>}
      <div className="params">
        {pipeline?.params.map((param) => (
          <label key={param.name} title={param.description}>
            {param.name}
            {param.required ? ' *' : ''}
            <input
              name={param.name}
              placeholder={shown(param.default)}
              value={values[param.name] ?? ''}
              onChange={(e) => setValues((v) => ({ ...v, [param.name]: e.target.value }))}
            />
          </label>
        ))}
      </div>
      <div className="actions">
        <button type="submit">Start</button>
        <button type="button" className="quiet" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
      {error && <ErrorNote error={error} />}
    </form>
  );
}
