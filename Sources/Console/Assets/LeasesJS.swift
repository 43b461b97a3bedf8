// The console's leases.js: edit it here; the node serves these exact bytes at /ui/leases.js.
extension ConsoleAssets {
    /// Remaining TTLs for the rows in view, asked of the lease API and counted down in between.
    static let leasesJS = #"""
        // Remaining TTLs for the instance rows in view: asked of the lease API a few at a time, refreshed every few
        // seconds while in view, and counted down locally in between, so 10,000 leased instances cost a handful of
        // requests, not 10,000.
        import { getJSON } from "./api.js";

        const refreshMs = 5000;
        const fetchesAtOnce = 4;
        const rememberedLeases = 5000;

        export class LeaseClock {
          /** @param {() => void} onChange called when an answer arrives, to redraw the rows */
          constructor(onChange) {
            this.onChange = onChange;
            /** Lease id → { remainingMs, grantedMs, at (performance.now() of the answer, 0 before one), gone, failed, pending }. */
            this.entries = new Map();
            this.queue = [];
            this.fetches = 0;
          }

          /** The text of a TTL cell: "12.3 s of 15 s", "expired", "unknown", or "…" while it is first asked for. */
          text(lease) {
            const entry = this.entries.get(lease);
            if (!entry || entry.at === 0) {
              this.want(lease);
              return "…";
            }
            if (entry.gone) return "expired";
            if (entry.failed) return "unknown";
            const remaining = Math.max(0, entry.remainingMs - (performance.now() - entry.at));
            return (remaining / 1000).toFixed(remaining < 10000 ? 1 : 0) + " s of " + Math.round(entry.grantedMs / 1000) + " s";
          }

          /** Asks again for the leases of `instances` (the rows in view) whose answer is older than a few seconds. */
          refresh(instances) {
            const now = performance.now();
            for (const instance of instances) {
              if (instance.lease === null) continue;
              const entry = this.entries.get(instance.lease);
              if (entry && !entry.pending && now - entry.at > refreshMs) this.want(instance.lease);
            }
            if (this.entries.size > rememberedLeases) this.entries.clear();
          }

          want(lease) {
            const entry = this.entries.get(lease);
            if (entry && entry.pending) return;
            this.entries.set(lease, { ...(entry || { remainingMs: 0, grantedMs: 0, at: 0 }), pending: true });
            this.queue.push(lease);
            this.fetchQueued();
          }

          /** Linearizable lease reads: the leader holds the live deadline. */
          fetchQueued() {
            while (this.fetches < fetchesAtOnce && this.queue.length > 0) {
              const lease = this.queue.shift();
              this.fetches += 1;
              getJSON("/v1/leases/" + lease, { timeoutMs: 3000 }).then((answer) => {
                this.entries.set(lease, {
                  remainingMs: answer.lease.remaining_ttl_ms, grantedMs: answer.lease.granted_ttl_ms, at: performance.now(),
                  gone: false, failed: false, pending: false,
                });
              }, (error) => {
                const gone = error.status === 404;
                this.entries.set(lease, { ...this.entries.get(lease), gone, failed: !gone, pending: false, at: performance.now() });
              }).finally(() => {
                this.fetches -= 1;
                this.fetchQueued();
                this.onChange();
              });
            }
          }
        }
        """#
}
