import type { FastifyInstance } from 'fastify';
import { loadModelCard, ModelCardNotFoundError } from '../../../activities/registry/card';
import { cardMarkdown } from '../../../activities/registry/card-render';
import type { ModelVersionInfo } from '../../../store';
import type { AliasMoveResponse, ModelDetail, ModelListItem, ModelVersionDetail, PromoteRequest } from '../../api';
import type { ConsoleContext } from '../context';
import { ApiInputError } from '../errors';
import { modelReports } from '../model-reports';

const name = { type: 'string', minLength: 1, maxLength: 200 } as const;

const versionSummary = (v: ModelVersionInfo) => ({
  version: v.version,
  runId: v.runId,
  createdAt: v.createdAt.toISOString(),
  createdBy: v.createdBy,
  metrics: v.metrics,
  aliases: v.aliases,
});

export function modelRoutes(app: FastifyInstance, { store, artifacts }: ConsoleContext) {
  app.get('/api/models', async (request): Promise<ModelListItem[]> =>
    (await store.registry.listModels(request.principal)).map((m) => ({
      name: m.name,
      latestVersion: m.versions[0]?.version ?? null,
      aliases: m.aliases,
    })),
  );

  app.get<{ Params: { name: string } }>(
    '/api/models/:name',
    { schema: { params: { type: 'object', required: ['name'], properties: { name } } } },
    async (request): Promise<ModelDetail> => {
      const model = await store.registry.getModel(request.principal, request.params.name);
      if (!model)
        throw new ApiInputError(`model '${request.params.name}' is not in the registry; see GET /api/models`, 404);
      return {
        name: model.name,
        description: model.description,
        aliases: model.aliases,
        versions: model.versions.map(versionSummary),
      };
    },
  );

  app.get<{ Params: { name: string; version: string } }>(
    '/api/models/:name/versions/:version',
    { schema: { params: { type: 'object', required: ['name', 'version'], properties: { name, version: name } } } },
    async (request): Promise<ModelVersionDetail> => {
      const { principal } = request;
      const given = request.params.version;
      const v = await store.registry.getModelVersion(
        principal,
        request.params.name,
        /^\d+$/.test(given) ? Number(given) : given,
      );
      // The card `registry.register` stored, as `kiln card` prints it; a version without one shows none.
      const card = await loadModelCard(store, artifacts, principal, v.model, v.version).then(cardMarkdown, (error) => {
        if (error instanceof ModelCardNotFoundError) return undefined;
        throw error;
      });
      return {
        name: v.model,
        ...versionSummary(v),
        artifactSha256: v.artifactSha256,
        ...(await modelReports(store, artifacts, principal, v.runId, v.artifactSha256)),
        ...(card ? { card } : {}),
      };
    },
  );

  const aliasParams = {
    type: 'object',
    required: ['name', 'alias'],
    properties: { name, alias: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
  } as const;

  app.post<{ Params: { name: string; alias: string }; Body: PromoteRequest }>(
    '/api/models/:name/aliases/:alias',
    {
      schema: {
        params: aliasParams,
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 1 }, comment: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (request): Promise<AliasMoveResponse> => {
      const { name: model, alias } = request.params;
      const { version, comment } = request.body;
      return store.registry.promote(request.principal, model, version, alias, comment ? { comment } : {});
    },
  );

  app.post<{ Params: { name: string; alias: string }; Body: { comment?: string } | undefined }>(
    '/api/models/:name/aliases/:alias/rollback',
    {
      schema: {
        params: aliasParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { comment: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (request): Promise<AliasMoveResponse> => {
      const comment = request.body?.comment;
      return store.registry.rollback(
        request.principal,
        request.params.name,
        request.params.alias,
        comment ? { comment } : {},
      );
    },
  );
}
