// The console's cluster.js: edit it here; the node serves these exact bytes at /ui/cluster.js.
extension ConsoleAssets {
    /// Cluster metadata polled once a second, and the header, banner and member table drawn from it.
    static let clusterJS = #"""
        // Cluster metadata, polled once a second (membership and roles are not in the registry's revision history):
        // this node's readiness and status, the member list, and each member's own status from its client address;
        // and the header, banner and member table drawn from them.
        import { getJSON } from "./api.js";
        import * as views from "./views.js";

        const pollMs = 1000;
        const byId = (id) => document.getElementById(id);

        export class ClusterWatch {
          /** @param {() => void} onChange called after every poll */
          constructor(onChange) {
            this.onChange = onChange;
            this.self = null; // this node's /v1/cluster/status
            this.ready = null; // this node's /readyz answer, or { error }
            this.members = [];
            this.statuses = new Map(); // member name → its status, or { error }
          }

          start() {
            this.poll();
          }

          async poll() {
            try {
              const response = await fetch("/readyz", { cache: "no-store", signal: AbortSignal.timeout(2000) });
              this.ready = await response.json();
              const [self, members] = await Promise.all([
                getJSON("/v1/cluster/status", { timeoutMs: 2000 }),
                getJSON("/v1/cluster/members", { timeoutMs: 2000 }),
              ]);
              this.self = self;
              this.members = members.members;
              this.statuses.set(self.name, self);
              await Promise.all(this.members.filter((member) => member.name !== self.name).map((member) => this.askMember(member)));
            } catch (error) {
              this.ready = { error: error.name === "TimeoutError" ? "no answer within 2 s" : error.message || String(error) };
            }
            this.onChange();
            setTimeout(() => this.poll(), pollMs);
          }

          /** Another member's own status, read cross-origin from its client address (the node allows it). */
          async askMember(member) {
            if (!member.client_address) {
              this.statuses.set(member.name, { error: "its client address is not known yet" });
              return;
            }
            try {
              const url = location.protocol + "//" + member.client_address + "/v1/cluster/status";
              this.statuses.set(member.name, await getJSON(url, { timeoutMs: 1500 }));
            } catch (error) {
              this.statuses.set(member.name, { error: error.message });
            }
          }
        }

        /** The header facts, the readiness pill and banner, the member table and, on a follower, the leader's link. */
        export function renderCluster(cluster, onTransfer) {
          const { self, ready } = cluster;
          byId("node-name").textContent = self ? self.name : "…";
          document.title = self ? "Roster · " + self.name : "Roster console";
          byId("leader-name").textContent = self ? self.leader || "none" : "…";
          byId("term").textContent = self ? String(self.term) : "…";
          document.body.dataset.leader = self && self.leader ? self.leader : "";
          document.body.dataset.ready = ready && ready.ready ? "true" : "false";
          renderReadiness(self, ready);
          const members = cluster.members.map((member) => ({ ...member, self: Boolean(self && member.name === self.name) }));
          const isLeader = Boolean(self && self.leader === self.name);
          views.renderMembers(byId("members-body"), members, cluster.statuses, self ? self.leader : null, isLeader, onTransfer);
          renderLeaderLink(cluster, isLeader);
        }

        function renderReadiness(self, ready) {
          const pill = byId("ready-pill");
          const banner = byId("banner");
          const name = self ? self.name : "";
          if (!ready || ready.error) {
            pill.className = "pill bad";
            pill.textContent = "unreachable";
            banner.textContent = "This node is not answering" + (ready ? " (" + ready.error + ")" : "") +
              ". The page shows what it last knew and reconnects by itself.";
            banner.hidden = false;
          } else if (!ready.ready) {
            pill.className = "pill bad";
            pill.textContent = "not ready";
            banner.textContent = (ready.reason === "no leader"
              ? "No leader: node " + name + " cannot reach a quorum. "
              : "Node " + name + " is not ready: " + ready.reason + ". ") +
              "What you see may be stale and changes will fail until it is ready.";
            banner.hidden = false;
          } else {
            pill.className = "pill good";
            pill.textContent = "ready";
            banner.hidden = true;
          }
        }

        /** On a follower, a link to the leader's console: only the leader takes transfer requests. */
        function renderLeaderLink(cluster, isLeader) {
          const note = byId("members-note");
          const self = cluster.self;
          const leader = self && !isLeader ? cluster.members.find((member) => member.name === self.leader) : null;
          if (!leader || !leader.client_address) {
            note.hidden = true;
            return;
          }
          const link = byId("leader-console");
          link.textContent = leader.name + "'s console";
          link.href = location.protocol + "//" + leader.client_address + "/ui/";
          note.hidden = false;
        }
        """#
}
