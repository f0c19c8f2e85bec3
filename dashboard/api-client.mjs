// Calls to the API. Every /v1 request carries the API key kept in localStorage; a 401 or 403 asks
// the person for a key (once, however many requests were refused at the same moment) and retries.

import { readEventStream } from './sse-client.mjs';

const KEY_STORAGE = 'rpa.dashboard.apiKey';

export class ApiError extends Error {
  /** @param {number} status @param {Record<string, unknown> | null} problem @param {string} fallback */
  constructor(status, problem, fallback) {
    const detail = problem && typeof problem.detail === 'string' ? problem.detail : null;
    const title = problem && typeof problem.title === 'string' ? problem.title : null;
    super(detail ?? title ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

export function storedKey() {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null; // storage disabled (private mode): the key lives only as long as the page
  }
}

/** @param {string | null} key */
export function storeKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // see storedKey
  }
}

/** Why the key was refused, in words a person can act on. @param {number} status @param {any} problem */
function refusalMessage(status, problem) {
  if (status === 403) {
    const scope = problem && typeof problem.requiredScope === 'string' ? ` ("${problem.requiredScope}")` : '';
    return `This API key is not allowed to do that${scope}. Enter a key with more rights.`;
  }
  if (problem?.reason === 'missing') return 'This server needs an API key. Enter one to continue.';
  return 'The API key was refused (unknown, expired or revoked). Enter another key.';
}

/**
 * @param {{ askForKey: (message: string) => Promise<string> }} options
 *   askForKey resolves with a new key, or rejects when the person gives up.
 */
export function createApiClient({ askForKey }) {
  let memoryKey = storedKey();
  /** @type {Promise<string> | null} */
  let asking = null;
  // After "Cancel", refused requests fail instead of asking again (polls would re-open the dialog
  // every few seconds); the "API key…" button asks again.
  let declined = false;

  const authHeaders = () => (memoryKey ? { authorization: `Bearer ${memoryKey}` } : {});

  /**
   * Asks once for all requests refused together; the first answer serves them all. A request
   * refused with a key that has been replaced meanwhile just retries with the new one.
   * @param {string} message @param {string | null} usedKey the key the refused request carried
   */
  const renewKey = (message, usedKey) => {
    if (memoryKey !== usedKey) return Promise.resolve(memoryKey);
    if (declined) return Promise.reject(new Error('no API key given'));
    asking ??= askForKey(message)
      .then(
        (key) => {
          memoryKey = key;
          storeKey(key);
          return key;
        },
        (err) => {
          declined = true;
          throw err;
        },
      )
      .finally(() => {
        asking = null;
      });
    return asking;
  };

  /** @param {string} path @param {RequestInit} [init] */
  async function request(path, init = {}) {
    for (;;) {
      const usedKey = memoryKey;
      const response = await fetch(path, {
        ...init,
        headers: { accept: 'application/json', ...authHeaders(), ...(init.headers ?? {}) },
      });
      const problem = response.ok ? null : await readJson(response);
      if (response.status === 401 || response.status === 403) {
        await renewKey(refusalMessage(response.status, problem), usedKey).catch(() => {
          throw new ApiError(response.status, problem, 'An API key is needed.');
        });
        continue;
      }
      if (!response.ok)
        throw new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
      return response;
    }
  }

  return {
    /** @param {string} path */
    async get(path) {
      return (await request(path)).json();
    },
    /** @param {string} path @param {unknown} body @param {Record<string, string>} [headers] */
    async post(path, body, headers = {}) {
      const response = await request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body ?? {}),
      });
      return response.status === 204 ? null : response.json();
    },
    /**
     * Follows an SSE stream until it ends; a refused key is renewed and the stream reopened.
     * @param {string} path @param {(event: { event: string, data: string }) => void} onEvent @param {AbortSignal} signal
     */
    async stream(path, onEvent, signal) {
      for (;;) {
        const usedKey = memoryKey;
        try {
          await readEventStream(path, { headers: authHeaders(), signal, onEvent });
          return;
        } catch (err) {
          if (!(err instanceof Response)) throw err;
          const problem = await readJson(err);
          if (err.status !== 401 && err.status !== 403)
            throw new ApiError(err.status, problem, err.statusText);
          await renewKey(refusalMessage(err.status, problem), usedKey);
        }
      }
    },
    /** Asks for another key; the current one stays in use until a new one is given. */
    changeKey() {
      declined = false;
      return renewKey('Enter the API key this dashboard should use.', memoryKey);
    },
    hasKey: () => Boolean(memoryKey),
    /** The key's header, for requests outside /v1 that must not ask for a key (/metrics). */
    authHeaders,
  };
}

/** @param {Response} response */
async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}
