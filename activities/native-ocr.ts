import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ENG_LANG_PATH, type OcrEngine, type RecognizedPage } from './ocr-pool';

/** Where scripts/build-native-ocr.js puts the binding it builds against the system's libtesseract. */
export const NATIVE_BINDING_PATH = path.resolve(__dirname, '..', 'native', 'build', 'tesseract-binding.node');

/** OCR_ENGINE=native was asked for on a machine where the binding is not built. */
export class NativeOcrUnavailableError extends Error {
  override name = 'NativeOcrUnavailableError';
}

type Handle = { readonly __brand: 'tesseract engine' };
type NativeBox = [number, number, number, number];
interface NativeEntry {
  text: string;
  confidence: number;
  box: NativeBox;
}
interface NativeBinding {
  createEngine(traineddata: Buffer, language: string, parameters: Record<string, string>): Handle;
  recognize(
    engine: Handle,
    image: Buffer,
  ): Promise<{ text: string; confidence: number; lines: (NativeEntry & { words: NativeEntry[] })[] }>;
  destroy(engine: Handle): void;
  version(): string;
}

/** The binding, or an error that says how to get it. */
export function loadNativeBinding(bindingPath = NATIVE_BINDING_PATH): NativeBinding {
  if (!existsSync(bindingPath)) {
    throw new NativeOcrUnavailableError(
      `OCR_ENGINE=native, but the native OCR engine is not built (${bindingPath} is missing): install ` +
        "Debian's libtesseract-dev (apt-get install libtesseract-dev) and run `node scripts/build-native-ocr.js`, " +
        'or set OCR_ENGINE=tesseractjs',
    );
  }
  // One page per engine at a time, and 2 pages on 2 cores: OpenMP threads inside libtesseract would
  // only contend with the other engine. libgomp reads this when the library is loaded, just below.
  process.env.OMP_THREAD_LIMIT ??= '1';
  return require(bindingPath) as NativeBinding;
}

export interface NativeOcrPoolOptions {
  workers: number;
  bindingPath?: string;
}

const clean = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * `workers` libtesseract engines, each with the model loaded once, pages run on libuv's thread pool
 * (at most `workers` at a time: the rest wait here, not in the pool, which fs and dns share). Reads
 * the same `4.0.0_best_int` model as the tesseract.js pool with the same settings (LSTM only, PSM 6,
 * 300 DPI), so both return the same kind of page. No recycling: native heaps are freed page by page
 * (`Clear()`), unlike a WASM heap that only grows.
 */
export class NativeOcrPool implements OcrEngine {
  private binding: NativeBinding | null = null;
  private idle: Handle[] = [];
  private all: Handle[] = [];
  private readonly waiting: ((engine: Handle) => void)[] = [];
  private active = 0;
  private closed = false;

  constructor(private readonly options: NativeOcrPoolOptions) {}

  /** Loads the binding now: a missing one is reported at startup, not at the first page. */
  check(): string {
    return this.load().version();
  }

  private load(): NativeBinding {
    this.binding ??= loadNativeBinding(this.options.bindingPath);
    return this.binding;
  }

  private acquire(): Promise<Handle> | Handle {
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.length < this.options.workers) {
      const model = gunzipSync(readFileSync(path.join(ENG_LANG_PATH, 'eng.traineddata.gz')));
      const engine = this.load().createEngine(model, 'eng', {
        tessedit_pageseg_mode: '6',
        user_defined_dpi: '300',
      });
      this.all.push(engine);
      return engine;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(engine: Handle): void {
    const next = this.waiting.shift();
    if (next) next(engine);
    else this.idle.push(engine);
  }

  async recognize(image: Buffer): Promise<RecognizedPage> {
    if (this.closed) throw new Error('the native OCR pool is closed');
    const engine = await this.acquire();
    this.active += 1;
    try {
      const page = await this.load().recognize(engine, image);
      return {
        text: page.text,
        confidence: Math.round(page.confidence),
        lines: page.lines
          .map((line) => ({
            text: clean(line.text),
            confidence: Math.round(line.confidence),
            box: line.box,
            words: line.words.map((word) => ({
              text: word.text,
              confidence: Math.round(word.confidence),
              box: word.box,
            })),
          }))
          .filter((line) => line.text !== ''),
      };
    } finally {
      this.active -= 1;
      this.release(engine);
    }
  }

  /** Engines loaded so far (each holds one copy of the model). */
  get engines(): number {
    return this.all.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const engine of this.all) this.binding?.destroy(engine);
    this.all = [];
    this.idle = [];
  }
}
