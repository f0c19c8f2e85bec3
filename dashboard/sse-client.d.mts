// Types of sse-client.mjs for the TypeScript tests (the browser module itself is plain JS).

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}
export function createSseParser(onEvent: (event: SseEvent) => void): (chunk: string) => void;
export function readEventStream(
  url: string,
  options: { headers?: Record<string, string>; signal?: AbortSignal; onEvent: (event: SseEvent) => void },
): Promise<void>;
