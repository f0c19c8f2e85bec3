import type { Config } from '../core/config';
import { NativeOcrPool } from './native-ocr';
import { type OcrEngine, TesseractPool } from './ocr-pool';

/**
 * The module process's OCR engine (OCR_ENGINE). Workers start with the first page either way, but a
 * native engine that is asked for and not built fails here, when the module starts, with what to do
 * about it: not at the first document, as a retryable step failure.
 */
export function createOcrEngine(
  config: Pick<Config, 'OCR_ENGINE' | 'OCR_WORKERS' | 'OCR_RECYCLE_PAGES'>,
  nativeBindingPath?: string,
): OcrEngine {
  if (config.OCR_ENGINE === 'native') {
    const pool = new NativeOcrPool({
      workers: config.OCR_WORKERS,
      ...(nativeBindingPath ? { bindingPath: nativeBindingPath } : {}),
    });
    pool.check();
    return pool;
  }
  return new TesseractPool({ workers: config.OCR_WORKERS, recyclePages: config.OCR_RECYCLE_PAGES });
}
