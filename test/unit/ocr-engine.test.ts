import { NativeOcrPool, NativeOcrUnavailableError } from '../../activities/native-ocr';
import { createOcrEngine } from '../../activities/ocr-engine';
import { TesseractPool } from '../../activities/ocr-pool';
import { parseConfig } from '../../core/config';

const missing = '/nonexistent/tesseract-binding.node';

describe('OCR_ENGINE', () => {
  it('is tesseract.js unless native is asked for', () => {
    const config = parseConfig({});
    expect(config.OCR_ENGINE).toBe('tesseractjs');
    expect(createOcrEngine(config, missing)).toBeInstanceOf(TesseractPool);
    expect(() => parseConfig({ OCR_ENGINE: 'wasm' })).toThrow();
  });

  it('native without the built binding fails at once, saying what to install', () => {
    const config = parseConfig({ OCR_ENGINE: 'native' });
    const attempt = () => createOcrEngine(config, missing);
    expect(attempt).toThrow(NativeOcrUnavailableError);
    expect(attempt).toThrow(/libtesseract-dev.*build-native-ocr\.js.*OCR_ENGINE=tesseractjs/);
  });

  it('a native pool whose binding is missing rejects its first page with the same error', async () => {
    const pool = new NativeOcrPool({ workers: 1, bindingPath: missing });
    await expect(pool.recognize(Buffer.from('x'))).rejects.toThrow(NativeOcrUnavailableError);
    await pool.close();
  });
});
