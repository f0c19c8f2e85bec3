import { Router } from 'express';
import { z } from 'zod';
import { parseDuration } from '../../core/adapters/crypto/api-keys';
import { NotFoundError } from '../../core/domain/errors';
import type { KeyRevocations } from '../../core/domain/key-revocations';
import type { Logger } from '../../core/observability/logger';
import type { ApiKeysRepository } from '../../db/api-keys.repository';
import { toApiKeyView } from '../../db/views/api-key.view';
import type { ApiKeyVerifier } from '../auth/key-verifier';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import { createKeyBody, keyIdParams } from '../schemas';

/** /v1/keys: admin only (route-scopes.ts). The plain key appears once, in the POST answer. */
export function keysRoutes(
  keys: ApiKeysRepository,
  verifier: ApiKeyVerifier,
  revocations: KeyRevocations,
  options: { json: JsonLimits; logger: Logger },
): Router {
  const router = Router();

  router.get('/keys', async (req, res) => {
    parseOrThrow(z.object({}).strict(), req.query, 'query');
    res.json({ items: (await keys.list()).map(toApiKeyView) });
  });

  router.post('/keys', ...jsonBody(options.json), async (req, res) => {
    const body = parseOrThrow(createKeyBody, req.body ?? {}, 'body');
    const expiresAt = body.expires ? new Date(Date.now() + parseDuration(body.expires)) : null;
    const { key, row } = await keys.create({ name: body.name, scopes: body.scopes, expiresAt });
    res
      .status(201)
      .location(`/v1/keys/${row.id}`)
      .json({ ...toApiKeyView(row), key });
  });

  router.delete('/keys/:id', async (req, res) => {
    const { id } = parseOrThrow(keyIdParams, req.params, 'params');
    const row = await keys.revoke(id, new Date());
    if (!row) throw new NotFoundError(`api key ${id} not found`);
    // This replica at once; the others when they hear it (ADR 0053). The revoke is durable already:
    // if the message cannot be sent, the other replicas refuse the key within API_KEY_CACHE_SECONDS.
    verifier.evict(row.prefix);
    if (revocations.live && !(await revocations.publish(row.prefix))) {
      options.logger.warn(
        { keyId: row.id },
        'api key revocation not published (Redis unavailable): other replicas refuse the key within API_KEY_CACHE_SECONDS',
      );
    }
    res.json(toApiKeyView(row));
  });

  return router;
}
