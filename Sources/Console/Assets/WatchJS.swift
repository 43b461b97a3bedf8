// The console's watch.js: edit it here; the node serves these exact bytes at /ui/watch.js.
extension ConsoleAssets {
    /// The list-then-watch loop with reconnects and re-listing after a resync.
    static let watchJS = #"""
        // The live feed: one listing, then one watch stream over the whole namespace, applied to the model. Listings
        // are fetched again only when the stream says its start left the history window (resync) or was compacted.
        import { ApiError, getJSON, streamLines } from "./api.js";

        const retryDelaysMs = [250, 500, 1000, 2000, 3000];
        /** Three progress intervals (the stream asks for one every 5 s) without a line: the node is stalled. */
        const silenceMs = 15000;

        /**
         * Keeps a `RegistryModel` equal to the registry's namespace: `GET /v1/services` at revision R, then
         * `GET /v1/watch?prefix=<namespace>/&from_revision=R+1&prev_value=true`, reconnecting after the last complete
         * revision when the stream ends (node restart, lost leader) and listing again after a resync.
         */
        export class WatchFeed {
          constructor(model, onState) {
            this.model = model;
            this.onState = onState;
            this.controller = null;
            this.stopped = false;
          }

          /** Starts (or restarts, for a new namespace) the list-then-watch loop. */
          start() {
            this.stop();
            this.stopped = false;
            this.controller = new AbortController();
            this.run(this.controller.signal);
          }

          stop() {
            this.stopped = true;
            if (this.controller) this.controller.abort();
          }

          async run(signal) {
            let needsListing = true;
            let failures = 0;
            while (!signal.aborted) {
              try {
                if (needsListing) {
                  this.onState("listing", "listing the namespace");
                  const listing = await getJSON(
                    "/v1/services?namespace=" + encodeURIComponent(this.model.namespace), { signal, timeoutMs: 15000 });
                  this.model.resetServices(listing.services, listing.revision);
                  needsListing = false;
                }
                const resync = await this.watch(signal, () => { failures = 0; });
                if (resync) {
                  this.model.note("the watch start left the history window; listing again");
                  needsListing = true;
                  continue;
                }
                this.onState("reconnecting", "the node ended the watch stream");
              } catch (error) {
                if (signal.aborted) return;
                if (error.name === "AbortError") error = new Error("no line for " + silenceMs / 1000 + " s; the node may be stalled");
                if (error.code === "compacted") needsListing = true;
                this.onState("reconnecting", error.message || String(error));
                failures += 1;
              }
              await sleep(retryDelaysMs[Math.min(failures, retryDelaysMs.length - 1)], signal);
            }
          }

          /**
           * One watch connection from after the last complete revision, until the node ends it (resolves false), says
           * its start left the history window (resolves true), or is silent for longer than three progress intervals: a
           * stalled node (SIGSTOP, a lost route) closes nothing, so the connection is abandoned and the feed reconnects.
           */
          async watch(signal, onOpen) {
            const from = this.model.completeRevision + 1;
            const url = "/v1/watch?prefix=" + encodeURIComponent(this.model.namespace + "/") +
              "&from_revision=" + from + "&prev_value=true&progress_interval=5s";
            this.onState("connecting", "opening the watch from revision " + from);
            const connection = new AbortController();
            const abort = () => connection.abort();
            signal.addEventListener("abort", abort, { once: true });
            let watchdog = setTimeout(abort, silenceMs);
            const heard = () => {
              clearTimeout(watchdog);
              watchdog = setTimeout(abort, silenceMs);
            };
            let resync = false;
            try {
              await streamLines(url, connection.signal, () => {
                heard();
                onOpen();
                this.onState("live", "watching from revision " + from);
              }, (line) => {
                if (line.error) throw new ApiError(200, line.error.code, line.error.message);
                if (line.resync) {
                  resync = true;
                  return false;
                }
                if (line.progress) this.model.progress(line.progress.revision);
                else this.model.apply(line);
                return true;
              }, heard);
            } finally {
              clearTimeout(watchdog);
              signal.removeEventListener("abort", abort);
            }
            return resync;
          }
        }

        function sleep(ms, signal) {
          return new Promise((resolve) => {
            const timer = setTimeout(resolve, ms);
            signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
          });
        }
        """#
}
