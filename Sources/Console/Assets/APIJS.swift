// The console's api.js: edit it here; the node serves these exact bytes at /ui/api.js.
extension ConsoleAssets {
    /// HTTP helpers: JSON requests with typed errors and the streamed NDJSON line reader.
    static let apiJS = #"""
        // HTTP helpers for the console: JSON requests to the node that served the page, typed failures, and a reader
        // that turns a streamed NDJSON body into lines as they arrive.

        /** A refusal or failure with the node's error code and message, so views can say what went wrong. */
        export class ApiError extends Error {
          constructor(status, code, message) {
            super(message);
            this.status = status;
            this.code = code;
          }
        }

        /** The error a response carries (`{"error":{"code","message"}}`), or a generic one for other bodies. */
        async function errorOf(response) {
          let code = "http_" + response.status;
          let message = response.status + " " + response.statusText;
          try {
            const body = await response.json();
            if (body && body.error) {
              code = body.error.code || code;
              message = body.error.message || message;
            }
          } catch (_) {
            // Not JSON: keep the status line as the message.
          }
          return new ApiError(response.status, code, message);
        }

        /**
         * Sends one request and returns its parsed JSON body.
         * @param {string} method
         * @param {string} url a path on this node, or a full URL of another member
         * @param {object} [options] `body` (sent as JSON), `timeoutMs` (default 5000), `signal`
         * @throws {ApiError} for a non-2xx answer, or with code `unreachable` when no answer came
         */
        export async function request(method, url, options = {}) {
          const init = { method, headers: {}, cache: "no-store" };
          const signals = [AbortSignal.timeout(options.timeoutMs ?? 5000)];
          if (options.signal) signals.push(options.signal);
          init.signal = AbortSignal.any(signals);
          if (options.body !== undefined) {
            init.body = JSON.stringify(options.body);
            init.headers["Content-Type"] = "application/json";
          }
          let response;
          try {
            response = await fetch(url, init);
          } catch (error) {
            if (options.signal && options.signal.aborted) throw error;
            throw new ApiError(0, "unreachable", "no answer from " + url + " (" + error.message + ")");
          }
          if (!response.ok) throw await errorOf(response);
          return response.json();
        }

        /** `GET` as JSON. */
        export function getJSON(url, options) {
          return request("GET", url, options);
        }

        /** The path of one instance, with its namespace as a query parameter. */
        export function instancePath(namespace, service, id) {
          return "/v1/services/" + encodeURIComponent(service) + "/instances/" + encodeURIComponent(id) +
            "?namespace=" + encodeURIComponent(namespace);
        }

        /**
         * Opens a streamed GET and calls `onLine` with each parsed NDJSON line as it arrives (and `onBytes` whenever
         * any bytes do, so a long line still shows the stream is alive); resolves when the node ends the stream or
         * `onLine` returns false, rejects on a network error or abort.
         * @throws {ApiError} when the node refuses the stream (its status and error code)
         */
        export async function streamLines(url, signal, onOpen, onLine, onBytes) {
          const response = await fetch(url, { signal, cache: "no-store" });
          if (!response.ok) throw await errorOf(response);
          onOpen();
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let pending = "";
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              if (onBytes) onBytes();
              // A long line (a big resync) arrives in many chunks: look for its end only in the new text.
              if (value.indexOf("\n") < 0) {
                pending += value;
                continue;
              }
              pending += value;
              let start = 0;
              let newline = pending.indexOf("\n");
              while (newline >= 0) {
                const line = pending.slice(start, newline);
                start = newline + 1;
                if (line.trim() !== "" && onLine(JSON.parse(line)) === false) return;
                newline = pending.indexOf("\n", start);
              }
              if (start > 0) pending = pending.slice(start);
            }
          } finally {
            reader.cancel().catch(() => {});
          }
        }
        """#
}
