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

        // With auth on, requests to this node carry the token from a sign-in (kept for the tab's session only).
        // Requests to other members (their status) go without it: a header would need a CORS preflight there.
        const tokenKey = "roster-token";
        const tokenRefusals = new Set(["unauthenticated", "invalid_token", "auth_old_revision"]);
        let signingIn = null;

        function authorize(url, headers) {
          const token = sessionStorage.getItem(tokenKey);
          if (token && url.startsWith("/")) headers["Authorization"] = "Bearer " + token;
          return headers;
        }

        /** Asks for a user and password until the node issues a token (one dialog for every waiting request). */
        function signIn(reason) {
          if (!signingIn) signingIn = askForSignIn(reason).finally(() => { signingIn = null; });
          return signingIn;
        }

        function askForSignIn(reason) {
          const dialog = document.getElementById("login");
          const form = document.getElementById("login-form");
          const message = document.getElementById("login-message");
          message.textContent = reason;
          return new Promise((resolve) => {
            const onSubmit = async (event) => {
              event.preventDefault();
              const name = document.getElementById("login-user").value;
              const password = document.getElementById("login-password").value;
              const response = await fetch("/v1/auth/authenticate", {
                method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ name, password }),
              });
              if (!response.ok) {
                message.textContent = (await errorOf(response)).message;
                return;
              }
              sessionStorage.setItem(tokenKey, (await response.json()).token);
              document.getElementById("login-password").value = "";
              form.removeEventListener("submit", onSubmit);
              dialog.close();
              resolve();
            };
            form.addEventListener("submit", onSubmit);
            if (!dialog.open) dialog.showModal();
          });
        }

        /** Signs in and returns true when `error` is a refusal a new token fixes. */
        async function signedInAfter(error) {
          if (error.status !== 401 || !tokenRefusals.has(error.code)) return false;
          sessionStorage.removeItem(tokenKey);
          await signIn(error.message);
          return true;
        }

        /**
         * Sends one request and returns its parsed JSON body.
         * @param {string} method
         * @param {string} url a path on this node, or a full URL of another member
         * @param {object} [options] `body` (sent as JSON), `timeoutMs` (default 5000), `signal`
         * @throws {ApiError} for a non-2xx answer, or with code `unreachable` when no answer came
         */
        export async function request(method, url, options = {}) {
          const init = { method, headers: authorize(url, {}), cache: "no-store" };
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
          if (!response.ok) {
            const error = await errorOf(response);
            if (!options.signedIn && await signedInAfter(error)) return request(method, url, { ...options, signedIn: true });
            throw error;
          }
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
          let response = await fetch(url, { signal, cache: "no-store", headers: authorize(url, {}) });
          if (!response.ok) {
            const error = await errorOf(response);
            if (!(await signedInAfter(error))) throw error;
            response = await fetch(url, { signal, cache: "no-store", headers: authorize(url, {}) });
            if (!response.ok) throw await errorOf(response);
          }
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
