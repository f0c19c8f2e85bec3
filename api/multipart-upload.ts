import busboy from 'busboy';
import type { Request } from 'express';
import { DocumentTooLargeError, UnsupportedDocumentTypeError } from '../core/domain/document-errors';
import { ValidationError } from '../core/domain/errors';

export interface UploadedFile {
  /** As the client sent it, path and all (busboy's preservePath): checked by the caller. */
  fileName: string | null;
  bytes: Buffer;
}

/**
 * Reads a multipart/form-data body with exactly one file part (`file`) into memory, at most
 * `maxBytes`; busboy does the parsing and enforces the limits.
 */
export function readSingleFile(req: Request, maxBytes: number): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Keep the client's full name: a path in it is refused, not silently cut to its base name.
        preservePath: true,
        limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 1024, parts: 11, headerPairs: 20 },
      });
    } catch {
      reject(
        new UnsupportedDocumentTypeError('Send the document as multipart/form-data with one file field.'),
      );
      return;
    }
    let file: UploadedFile | null = null;
    let failure: Error | null = null;
    const fail = (err: Error) => {
      failure ??= err;
    };

    parser.on('file', (field, stream, info) => {
      if (field !== 'file') {
        fail(new ValidationError(`unexpected file field "${field}"; send the document as "file"`));
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () =>
        fail(
          new DocumentTooLargeError(`The document is larger than ${maxBytes} bytes.`, { limit: maxBytes }),
        ),
      );
      stream.on('end', () => {
        file = { fileName: info.filename ?? null, bytes: Buffer.concat(chunks) };
      });
    });
    parser.on('filesLimit', () => fail(new ValidationError('send exactly one file per upload')));
    parser.on('partsLimit', () => fail(new ValidationError('too many parts in the form')));
    parser.on('fieldsLimit', () => fail(new ValidationError('too many fields in the form')));
    parser.on('error', (err: Error) => {
      req.unpipe(parser);
      req.resume();
      reject(failure ?? new ValidationError(`malformed multipart body: ${err.message}`));
    });
    parser.on('close', () => {
      if (failure) reject(failure);
      else if (!file) reject(new ValidationError('no file: send the document in the form field "file"'));
      else resolve(file);
    });
    req.pipe(parser);
  });
}
