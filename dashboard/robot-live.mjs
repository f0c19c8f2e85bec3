// Keeps robots' statuses live. Each open SSE stream holds one of the browser's six HTTP/1.1
// connections to this host, so only a few robots get a stream; the rest are polled, and a robot
// moves to a stream when one frees up. A finished robot is dropped.

const MAX_STREAMS = 3;
const POLL_MS = 3000;
const MAX_POLLED_PER_TICK = 10;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export const isTerminal = (status) => TERMINAL.has(status);

/**
 * @param {ReturnType<import('./api-client.mjs').createApiClient>} api
 */
export function createLiveTracker(api) {
  /** @type {Map<string, AbortController>} */
  const streams = new Map();
  /** @type {Set<string>} */
  const polled = new Set();
  /** @type {Set<(robot: any) => void>} */
  const listeners = new Set();

  const publish = (robot) => {
    if (isTerminal(robot.status)) forget(robot.robotId);
    for (const listener of listeners) listener(robot);
  };

  const forget = (robotId) => {
    streams.get(robotId)?.abort();
    streams.delete(robotId);
    polled.delete(robotId);
  };

  const promote = () => {
    for (const robotId of polled) {
      if (streams.size >= MAX_STREAMS) return;
      polled.delete(robotId);
      openStream(robotId);
    }
  };

  const openStream = (robotId) => {
    const controller = new AbortController();
    streams.set(robotId, controller);
    let ended = false;
    const onEvent = (event) => {
      if (event.event === 'robot') publish(JSON.parse(event.data));
      else if (event.event === 'end') ended = true;
    };
    api
      .stream(`/v1/robots/${encodeURIComponent(robotId)}/events`, onEvent, controller.signal)
      .catch(() => undefined)
      .then(() => {
        if (controller.signal.aborted || streams.get(robotId) !== controller) return;
        streams.delete(robotId);
        // Closed before its end (proxy timeout, network, API restart): keep watching by polling.
        if (!ended) polled.add(robotId);
        promote();
      });
  };

  const poll = async () => {
    const batch = [...polled].slice(0, MAX_POLLED_PER_TICK);
    await Promise.all(
      batch.map((robotId) =>
        api.get(`/v1/robots/${encodeURIComponent(robotId)}`).then(publish, (err) => {
          // Gone, or no usable key (the person cancelled the prompt): stop asking every 3 s.
          if ([401, 403, 404].includes(err?.status)) forget(robotId);
        }),
      ),
    );
  };

  window.setInterval(() => {
    if (polled.size > 0 && !document.hidden) void poll();
  }, POLL_MS);

  return {
    /** @param {(robot: any) => void} listener @returns {() => void} unsubscribe */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Watches a robot until it finishes. @param {{ robotId: string, status: string }} robot */
    track(robot) {
      if (isTerminal(robot.status) || streams.has(robot.robotId) || polled.has(robot.robotId)) return;
      if (streams.size < MAX_STREAMS) openStream(robot.robotId);
      else polled.add(robot.robotId);
    },
    /** Stops watching everything (the list was reloaded with other filters). */
    clear() {
      for (const robotId of [...streams.keys(), ...polled]) forget(robotId);
    },
    counts: () => ({ streams: streams.size, polled: polled.size }),
  };
}
