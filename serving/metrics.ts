import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

// Prometheus metrics of one server, in a registry of its own (two servers in one process, as in
// tests, do not share counters). Label values come from served models only: a request for an
// unknown name counts under model="(unknown)", so that made-up names cannot grow the label set.

export const UNKNOWN_MODEL = '(unknown)';

export function servingMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kiln_serve_' });
  const labelNames = ['model', 'version'] as const;
  const requests = new Counter({
    name: 'kiln_predict_requests_total',
    help: 'Prediction requests answered, by model, version and HTTP status',
    labelNames: [...labelNames, 'status'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'kiln_predict_errors_total',
    help: 'Prediction requests answered with an error status (4xx or 5xx), by model, version and status',
    labelNames: [...labelNames, 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kiln_predict_duration_seconds',
    help: 'Time from receiving a prediction request to its response, by model and version',
    labelNames,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const rows = new Counter({
    name: 'kiln_predict_rows_total',
    help: 'Rows scored, by model, version and route (current, canary, shadow)',
    labelNames: [...labelNames, 'route'],
    registers: [registry],
  });
  const served = new Gauge({
    name: 'kiln_served_version',
    help: 'The version each served alias routes to, by role (current or candidate)',
    labelNames: ['model', 'alias', 'role'],
    registers: [registry],
  });
  const swaps = new Counter({
    name: 'kiln_model_swaps_total',
    help: 'Versions swapped in while serving, and failed loads (outcome)',
    labelNames: ['model', 'outcome'],
    registers: [registry],
  });
  const logged = new Counter({
    name: 'kiln_prediction_log_rows_total',
    help: 'Prediction log rows: written to the store, dropped (buffer full), or failed writes retried',
    labelNames: ['outcome'],
    registers: [registry],
  });

  // Children by label values: resolving labels per request costs more than the increment.
  const children = new Map<string, { requests: Counter; errors: Counter | null; duration: Histogram }>();
  const child = (model: string, version: string, status: number) => {
    const key = `${model}\u0000${version}\u0000${status}`;
    let found = children.get(key);
    if (!found) {
      found = {
        requests: requests.labels(model, version, String(status)) as unknown as Counter,
        errors: status >= 400 ? (errors.labels(model, version, String(status)) as unknown as Counter) : null,
        duration: duration.labels(model, version) as unknown as Histogram,
      };
      children.set(key, found);
    }
    return found;
  };

  return {
    registry,
    /** One answered prediction request. */
    observe(model: string, version: number | null, status: number, seconds: number) {
      const c = child(model, version === null ? '' : String(version), status);
      c.requests.inc();
      c.errors?.inc();
      c.duration.observe(seconds);
    },
    rows: (model: string, version: number, route: string, n: number) => rows.inc({ model, version, route }, n),
    served: (model: string, alias: string, role: 'current' | 'candidate', version: number | null) => {
      if (version === null) served.remove({ model, alias, role });
      else served.set({ model, alias, role }, version);
    },
    swap: (model: string, outcome: 'swapped' | 'failed') => swaps.inc({ model, outcome }),
    logged: (outcome: 'written' | 'dropped' | 'failed', n: number) => logged.inc({ outcome }, n),
  };
}
export type ServingMetrics = ReturnType<typeof servingMetrics>;
