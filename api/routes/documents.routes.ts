import { Router } from 'express';
import { z } from 'zod';
import type { DocumentsService } from '../documents.service';
import { parseOrThrow } from '../middleware/validate';
import { readSingleFile } from '../multipart-upload';

const documentIdParams = z.object({ id: z.uuid({ message: 'must be a document id (UUID)' }) });

export function documentsRoutes(service: DocumentsService, options: { maxBytes: number }): Router {
  const router = Router();

  router.post('/documents', async (req, res) => {
    const file = await readSingleFile(req, options.maxBytes);
    const { document, deduplicated } = await service.upload(file);
    res
      .status(201)
      .location(document.links.self)
      .json({ ...document, deduplicated });
  });

  router.get('/documents/:id', async (req, res) => {
    const { id } = parseOrThrow(documentIdParams, req.params, 'params');
    res.json(await service.get(id));
  });

  router.get('/documents/:id/content', async (req, res) => {
    const { id } = parseOrThrow(documentIdParams, req.params, 'params');
    const { document, bytes } = await service.content(id);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('etag', `"${document.sha256}"`);
    res.setHeader('cache-control', 'private, max-age=31536000, immutable');
    // content-disposition encodes the name (RFC 6266 / 5987); it is never a path on our side.
    res.attachment(document.originalName ?? `${document.documentId}`);
    res.type(document.mediaType).send(bytes);
  });

  return router;
}
