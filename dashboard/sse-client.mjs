// Server-Sent Events over fetch. EventSource cannot send an Authorization header, and every /v1
// route needs one once API keys are on, so the stream is read as a ReadableStream and parsed here.

/**
 * An incremental parser of the SSE wire format: feed it text as it arrives, it calls `onEvent` for
 * every complete event (blank-line terminated). Comments (`: keep-alive`) are dropped.
 * @param {(event: { event: string, data: string, id?: string }) => void} onEvent
 * @returns {(chunk: string) => void}
 */
export function createSseParser(onEvent) {
  let buffer = '';
  /** @type {{ event: string, data: string[], id?: string }} */
  let pending = { event: 'message', data: [] };
  const dispatch = () => {
    if (pending.data.length > 0) {
      const event = { event: pending.event, data: pending.data.join('\n') };
      onEvent(pending.id === undefined ? event : { ...event, id: pending.id });
    }
    pending = { event: 'message', data: [] };
  };
  return (chunk) => {
    buffer += chunk;
    let newline = buffer.search(/\r\n|\r|\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      if (line === '') dispatch();
      else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') pending.event = value;
        else if (field === 'data') pending.data.push(value);
        else if (field === 'id') pending.id = value;
      }
      newline = buffer.search(/\r\n|\r|\n/);
    }
  };
}

/**
 * Opens a stream and calls `onEvent` per event until the server ends it or `signal` aborts.
 * Resolves when the stream ends; rejects with the Response (not ok) or a network error.
 * @param {string} url
 * @param {{ headers?: Record<string, string>, signal?: AbortSignal,
 *   onEvent: (event: { event: string, data: string, id?: string }) => void }} options
 */
export async function readEventStream(url, { headers = {}, signal, onEvent }) {
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  if (!response.ok || !response.body) throw response;
  const parse = createSseParser(onEvent);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parse(value);
    }
  } finally {
    reader.releaseLock();
  }
}
