import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** A path the front door answers itself; false hands the request to Express. */
export type HotPath = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  handOn: () => void,
) => boolean;

/**
 * The node:http server's request listener: health probes and cached robot reads are answered here,
 * before Express sets up its request and response objects and runs its middleware; every other
 * request (and any the hot paths decline) goes to the Express app unchanged. ADR 0045.
 */
export function frontDoor(app: RequestListener, hotPaths: HotPath[]): RequestListener {
  return (req, res) => {
    const handOn = () => app(req, res);
    if (req.method !== 'GET' || hotPaths.length === 0) {
      handOn();
      return;
    }
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    for (const hot of hotPaths) if (hot(req, res, path, handOn)) return;
    handOn();
  };
}
