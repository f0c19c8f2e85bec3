import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, UnavailableError } from '../../core/domain/errors';
import type { SecretStore } from '../../db/secret-store';
import { toSecretView } from '../../db/views/secret.view';
import { setAudit } from '../middleware/audit-trail';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import { putSecretBody, secretNameParams } from '../schemas';

const noQuery = z.object({}).strict();

/** /v1/secrets (admin): write-only values; reads list names and metadata, never a value. */
export function secretsRoutes(store: SecretStore, options: { json: JsonLimits }): Router {
  const router = Router();
  const requireKeys = () => {
    if (!store.configured)
      throw new UnavailableError('secrets are not configured on this server (SECRETS_KEYS)', 60);
  };

  router.post('/secrets', ...jsonBody(options.json), async (req, res) => {
    parseOrThrow(noQuery, req.query, 'query');
    const { name, value } = parseOrThrow(putSecretBody, req.body ?? {}, 'body');
    requireKeys();
    const { row, created } = await store.put(name, value);
    res
      .status(created ? 201 : 200)
      .location(`/v1/secrets/${row.name}`)
      .json(toSecretView(row));
  });

  router.post('/secrets/rotate', async (req, res) => {
    parseOrThrow(noQuery, req.query, 'query');
    requireKeys();
    setAudit(res, { action: 'secrets.rotate', target: null });
    res.json({ reEncrypted: await store.rotate() });
  });

  router.get('/secrets', async (req, res) => {
    parseOrThrow(noQuery, req.query, 'query');
    res.json({ items: (await store.repository.list()).map(toSecretView) });
  });

  router.delete('/secrets/:name', async (req, res) => {
    const { name } = parseOrThrow(secretNameParams, req.params, 'params');
    if (!(await store.repository.delete(name))) throw new NotFoundError(`secret ${name} not found`);
    res.status(204).end();
  });

  return router;
}
