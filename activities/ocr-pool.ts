import path from 'node:path';
import { createScheduler, createWorker, OEM, type Scheduler } from 'tesseract.js';

/** A page as the engine saw it: lines with their words, boxes in the pixels of the image it got. */
export interface RecognizedPage {
  text: string;
  confidence: number;
  lines: RecognizedLine[];
}

export type Box = [x0: number, y0: number, x1: number, y1: number];

export interface RecognizedLine {
  text: string;
  confidence: number;
  box: Box;
  words: { text: string; confidence: number; box: Box }[];
}

export interface OcrEngine {
  recognize(image: Buffer): Promise<RecognizedPage>;
  close(): Promise<void>;
}

/**
 * The `eng` data shipped by the npm package @tesseract.js-data/eng (the LSTM "best_int" model that
 * tesseract.js itself would otherwise download from a CDN): nothing is fetched at run time.
 */
export const ENG_LANG_PATH = path.join(
  path.dirname(require.resolve('@tesseract.js-data/eng/package.json')),
  '4.0.0_best_int',
);

interface Generation {
  scheduler: Scheduler;
  pages: number;
  active: number;
  retired: boolean;
}

export interface TesseractPoolOptions {
  workers: number;
  /** Pages one generation of workers recognises before it is replaced (WASM heaps only grow). */
  recyclePages: number;
  onError?: (err: unknown) => void;
  /** Another model directory (the OCR benchmark measures tessdata_fast with it); ENG_LANG_PATH otherwise. */
  langPath?: string;
  /** Whether `langPath` holds eng.traineddata.gz (true) or eng.traineddata (false). */
  gzip?: boolean;
}

interface TesseractBbox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
interface TesseractWord {
  text: string;
  confidence: number;
  bbox: TesseractBbox;
}
interface TesseractLine extends TesseractWord {
  words: TesseractWord[];
}

const box = ({ x0, y0, x1, y1 }: TesseractBbox): Box => [x0, y0, x1, y1];
const clean = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * tesseract.js workers behind one scheduler, started on first use (a module that never runs `ocr`
 * pays nothing). After `recyclePages` pages the generation is retired: new pages go to a fresh
 * scheduler, and the old one is terminated once its last page is done.
 */
export class TesseractPool implements OcrEngine {
  private current: Promise<Generation> | null = null;
  private readonly all = new Set<Generation>();
  private started = 0;

  constructor(private readonly options: TesseractPoolOptions) {}

  private async start(): Promise<Generation> {
    const scheduler = createScheduler();
    const workers = await Promise.all(
      Array.from({ length: this.options.workers }, () =>
        createWorker('eng', OEM.LSTM_ONLY, {
          langPath: this.options.langPath ?? ENG_LANG_PATH,
          gzip: this.options.gzip ?? true,
          // Neither read nor write a traineddata cache in the working directory.
          cacheMethod: 'none',
          legacyCore: false,
          legacyLang: false,
          ...(this.options.onError ? { errorHandler: this.options.onError } : {}),
        }),
      ),
    );
    for (const worker of workers) {
      // Pages arrive already scaled; a fixed DPI stops tesseract guessing from missing metadata.
      await worker.setParameters({ user_defined_dpi: '300' });
      scheduler.addWorker(worker);
    }
    const generation: Generation = { scheduler, pages: 0, active: 0, retired: false };
    this.all.add(generation);
    this.started += 1;
    return generation;
  }

  private async terminate(generation: Generation): Promise<void> {
    this.all.delete(generation);
    await generation.scheduler.terminate();
  }

  /** Generations of workers: started so far, and still alive (recycling shows in both). */
  get generations(): { started: number; live: number } {
    return { started: this.started, live: this.all.size };
  }

  async recognize(image: Buffer): Promise<RecognizedPage> {
    if (!this.current) {
      this.current = this.start();
      this.current.catch(() => {
        this.current = null;
      });
    }
    const generation = await this.current;
    generation.pages += 1;
    generation.active += 1;
    if (generation.pages >= this.options.recyclePages && !generation.retired) {
      generation.retired = true;
      this.current = null;
    }
    try {
      const { data } = await generation.scheduler.addJob(
        'recognize',
        image,
        {},
        { text: true, blocks: true },
      );
      const lines = (data.blocks ?? []).flatMap((block) =>
        block.paragraphs.flatMap((paragraph) => paragraph.lines as unknown as TesseractLine[]),
      );
      return {
        text: data.text,
        confidence: Math.round(data.confidence),
        lines: lines
          .map((line) => ({
            text: clean(line.text),
            confidence: Math.round(line.confidence),
            box: box(line.bbox),
            words: line.words.map((word) => ({
              text: word.text,
              confidence: Math.round(word.confidence),
              box: box(word.bbox),
            })),
          }))
          .filter((line) => line.text !== ''),
      };
    } finally {
      generation.active -= 1;
      if (generation.retired && generation.active === 0) await this.terminate(generation);
    }
  }

  async close(): Promise<void> {
    const starting = this.current;
    this.current = null;
    await starting?.catch(() => undefined);
    await Promise.all([...this.all].map((generation) => this.terminate(generation)));
  }
}
