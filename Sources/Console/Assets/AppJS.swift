// The console's app.js: edit it here; the node serves these exact bytes at /ui/app.js.
extension ConsoleAssets {
    /// The entry module: polling of cluster metadata, rendering, selection and the confirmed actions.
    static let appJS = #"""
        // The console's wiring: cluster metadata polled once a second, registry data from one listing plus a watch
        // stream (WatchFeed), a virtualised instance list, and the confirmed actions (drain, deregister, transfer).
        import { getJSON, instancePath, request } from "./api.js";
        import { confirmAction, toast } from "./dialog.js";
        import { VirtualList } from "./instance-list.js";
        import { RegistryModel } from "./model.js";
        import * as views from "./views.js";
        import { WatchFeed } from "./watch.js";

        const clusterPollMs = 1000;
        const leaseRefreshMs = 5000;
        const leaseFetchesAtOnce = 4;
        const rowHeight = 34;

        const byId = (id) => document.getElementById(id);

        const page = {
          model: null,
          feed: null,
          self: null, // this node's /v1/cluster/status
          ready: null, // this node's /readyz answer, or { error }
          members: [],
          statuses: new Map(), // member name → its status, or { error }
          leases: new Map(), // lease id → { remainingMs, grantedMs, at, gone }
          leaseQueue: [],
          leaseFetches: 0,
          instanceFilter: "",
          serviceFilter: "",
          shownVersion: -1,
          shownFilter: null,
          dirty: new Set(),
          loadStartedAt: 0,
          lastFeedNote: null,
        };

        const list = new VirtualList(byId("instances"), rowHeight,
          (row) => views.createInstanceRow(row, { drain, deregister }),
          (row, instance) => views.fillInstanceRow(row, instance, leaseText));

        // MARK: - Rendering, once per frame whatever the event rate

        function invalidate(what) {
          if (page.dirty.size === 0) requestAnimationFrame(render);
          page.dirty.add(what);
        }

        function render() {
          const dirty = page.dirty;
          page.dirty = new Set();
          if (dirty.has("services")) renderServices();
          if (dirty.has("instances")) renderInstances();
          if (dirty.has("events")) views.renderEvents(byId("events"), page.model.events, 60);
          if (dirty.has("cluster")) renderCluster();
          byId("revision").textContent = String(page.model.revision);
        }

        function renderServices() {
          const selected = page.model.selected ? page.model.selected.name : null;
          views.renderServices(byId("services"), page.model.services, selected, page.serviceFilter, selectService);
        }

        function matches(instance, needle) {
          if (instance.id.toLowerCase().includes(needle) || instance.status.includes(needle)) return true;
          if (instance.version.toLowerCase().includes(needle)) return true;
          if (instance.endpoints.some((endpoint) => endpoint.toLowerCase().includes(needle))) return true;
          return Object.entries(instance.metadata).some(([key, value]) => (key + "=" + value).toLowerCase().includes(needle));
        }

        function renderInstances() {
          const selection = page.model.selected;
          const note = byId("instances-note");
          if (!selection) {
            byId("service-title").textContent = "Instances";
            byId("instance-count").textContent = "";
            note.textContent = "Select a service to see its instances.";
            list.setItems([]);
            return;
          }
          byId("service-title").textContent = selection.name;
          if (selection.loading) {
            note.textContent = selection.error ? "Could not list " + selection.name + ": " + selection.error.message +
              " (retrying)" : "Listing " + selection.name + "…";
            byId("instance-count").textContent = "";
            list.setItems([]);
            page.shownVersion = -1;
            return;
          }
          const needle = page.instanceFilter.trim().toLowerCase();
          if (page.shownVersion !== page.model.instancesVersion || page.shownFilter !== needle) {
            const all = [...selection.instances.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
            const shown = needle ? all.filter((instance) => matches(instance, needle)) : all;
            page.shownVersion = page.model.instancesVersion;
            page.shownFilter = needle;
            byId("instance-count").textContent = needle
              ? shown.length.toLocaleString() + " of " + all.length.toLocaleString() + " instances"
              : all.length.toLocaleString() + " instances";
            byId("instances").dataset.count = String(shown.length);
            byId("instances").dataset.total = String(all.length);
            note.textContent = all.length === 0 ? "No instances." : shown.length === 0 ? "No instance matches the filter." : "";
            list.setItems(shown);
          } else {
            list.render();
          }
          if (page.loadStartedAt) {
            byId("load-time").textContent = "listed and drawn in " + Math.round(performance.now() - page.loadStartedAt) + " ms";
            page.loadStartedAt = 0;
          }
        }

        function renderCluster() {
          const self = page.self;
          const ready = page.ready;
          byId("node-name").textContent = self ? self.name : "…";
          document.title = self ? "Roster · " + self.name : "Roster console";
          byId("leader-name").textContent = self ? self.leader || "none" : "…";
          byId("term").textContent = self ? String(self.term) : "…";
          document.body.dataset.leader = self && self.leader ? self.leader : "";
          const pill = byId("ready-pill");
          const banner = byId("banner");
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
              ? "No leader: node " + (self ? self.name : "") + " cannot reach a quorum. "
              : "Node " + (self ? self.name : "") + " is not ready: " + ready.reason + ". ") +
              "What you see may be stale and changes will fail until it is ready.";
            banner.hidden = false;
          } else {
            pill.className = "pill good";
            pill.textContent = "ready";
            banner.hidden = true;
          }
          document.body.dataset.ready = ready && ready.ready ? "true" : "false";
          const members = page.members.map((member) => ({ ...member, self: self && member.name === self.name }));
          const isLeader = Boolean(self && self.leader === self.name);
          views.renderMembers(byId("members-body"), members, page.statuses, self ? self.leader : null, isLeader, transfer);
          renderLeaderLink(self, isLeader);
        }

        /** On a follower, a link to the leader's console: leadership transfers are made by the leader. */
        function renderLeaderLink(self, isLeader) {
          const note = byId("members-note");
          const leader = self && !isLeader ? page.members.find((member) => member.name === self.leader) : null;
          if (!leader || !leader.client_address) {
            note.hidden = true;
            return;
          }
          const link = byId("leader-console");
          link.textContent = leader.name + "'s console";
          link.href = location.protocol + "//" + leader.client_address + "/ui/";
          note.hidden = false;
        }

        function setFeedState(state, detail) {
          const element = byId("feed-state");
          element.dataset.state = state;
          element.className = "feed " + state;
          element.textContent = state === "live" ? "live" : state;
          element.title = detail;
          // A node without a leader refuses every retry the same way: note a reason once, not once per retry.
          if (state === "reconnecting" && detail !== page.lastFeedNote) page.model.note("watch: " + detail);
          if (state === "reconnecting") page.lastFeedNote = detail;
          if (state === "live") page.lastFeedNote = null;
        }

        // MARK: - Cluster metadata, polled (it is not in the registry's revision history)

        async function pollCluster() {
          try {
            const response = await fetch("/readyz", { cache: "no-store", signal: AbortSignal.timeout(2000) });
            page.ready = await response.json();
            const [self, members] = await Promise.all([
              getJSON("/v1/cluster/status", { timeoutMs: 2000 }),
              getJSON("/v1/cluster/members", { timeoutMs: 2000 }),
            ]);
            page.self = self;
            page.members = members.members;
            page.statuses.set(self.name, self);
            await Promise.all(members.members.filter((member) => member.name !== self.name).map(async (member) => {
              if (!member.client_address) {
                page.statuses.set(member.name, { error: "its client address is not known yet" });
                return;
              }
              try {
                const status = await getJSON(location.protocol + "//" + member.client_address + "/v1/cluster/status", { timeoutMs: 1500 });
                page.statuses.set(member.name, status);
              } catch (error) {
                page.statuses.set(member.name, { error: error.message });
              }
            }));
          } catch (error) {
            page.ready = { error: error.message || String(error) };
          }
          invalidate("cluster");
          setTimeout(pollCluster, clusterPollMs);
        }

        // MARK: - Leases: remaining TTL for the rows in view, asked of the lease API and counted down in between

        function leaseText(lease) {
          const entry = page.leases.get(lease);
          if (!entry || entry.at === 0) {
            wantLease(lease);
            return "…";
          }
          if (entry.gone) return "expired";
          if (entry.failed) return "unknown";
          const remaining = Math.max(0, entry.remainingMs - (performance.now() - entry.at));
          return (remaining / 1000).toFixed(remaining < 10000 ? 1 : 0) + " s of " + Math.round(entry.grantedMs / 1000) + " s";
        }

        function wantLease(lease) {
          const entry = page.leases.get(lease);
          if (entry && entry.pending) return;
          page.leases.set(lease, { ...(entry || { remainingMs: 0, grantedMs: 0, at: 0 }), pending: true });
          page.leaseQueue.push(lease);
          fetchLeases();
        }

        /** Asks the lease API for the queued leases, a few at a time (the leader knows the live deadline). */
        function fetchLeases() {
          while (page.leaseFetches < leaseFetchesAtOnce && page.leaseQueue.length > 0) {
            const lease = page.leaseQueue.shift();
            page.leaseFetches += 1;
            getJSON("/v1/leases/" + lease, { timeoutMs: 3000 }).then((answer) => {
              page.leases.set(lease, {
                remainingMs: answer.lease.remaining_ttl_ms, grantedMs: answer.lease.granted_ttl_ms, at: performance.now(),
                gone: false, failed: false, pending: false,
              });
            }, (error) => {
              const entry = page.leases.get(lease);
              const gone = error.status === 404;
              page.leases.set(lease, { ...entry, gone, failed: !gone, pending: false, at: performance.now() });
            }).finally(() => {
              page.leaseFetches -= 1;
              fetchLeases();
              invalidate("instances");
            });
          }
        }

        /** Once a second: count TTLs down and refresh the leases of the rows in view that are older than 5 s. */
        function tick() {
          const now = performance.now();
          for (const instance of list.visibleItems()) {
            if (instance.lease === null) continue;
            const entry = page.leases.get(instance.lease);
            if (entry && !entry.pending && now - entry.at > leaseRefreshMs) wantLease(instance.lease);
          }
          if (page.leases.size > 5000) page.leases.clear();
          invalidate("instances");
        }

        // MARK: - Selection and namespace

        function selectService(name) {
          const selection = page.model.select(name);
          byId("instances").scrollTop = 0;
          writeLocation();
          invalidate("services");
          page.loadStartedAt = performance.now();
          loadSelected(selection);
        }

        async function loadSelected(selection) {
          const model = page.model;
          while (model.selected === selection) {
            model.retryLoading(selection);
            try {
              const listing = await getJSON("/v1/services/" + encodeURIComponent(selection.name) + "?namespace=" +
                encodeURIComponent(model.namespace), { timeoutMs: 30000 });
              if (model.loaded(selection, listing.instances, listing.revision)) return;
              continue;
            } catch (error) {
              model.failedLoading(selection, error);
              await new Promise((resolve) => setTimeout(resolve, 2000));
            }
          }
        }

        function openNamespace(namespace) {
          if (page.feed) page.feed.stop();
          page.model = new RegistryModel(namespace);
          page.model.onChange((what) => {
            if (what === "relisted" && page.model.selected) selectService(page.model.selected.name);
            else invalidate(what);
          });
          page.shownVersion = -1;
          page.feed = new WatchFeed(page.model, setFeedState);
          page.feed.start();
          writeLocation();
          invalidate("services");
          invalidate("instances");
          invalidate("events");
        }

        function readLocation() {
          const parameters = new URLSearchParams(location.hash.slice(1));
          return { namespace: parameters.get("namespace") || "default", service: parameters.get("service") };
        }

        function writeLocation() {
          const parameters = new URLSearchParams();
          parameters.set("namespace", page.model.namespace);
          if (page.model.selected) parameters.set("service", page.model.selected.name);
          history.replaceState(null, "", "#" + parameters.toString());
        }

        // MARK: - Actions, each confirmed first

        async function perform(description, work) {
          try {
            await work();
            toast(description + ": done");
          } catch (error) {
            toast(description + " failed: " + error.message + (error.code ? " (" + error.code + ")" : ""), true);
          }
        }

        async function drain(instance) {
          const draining = instance.status !== "draining";
          const name = instance.service + "/" + instance.id;
          const confirmed = await confirmAction(draining
            ? { title: "Drain " + name + "?", confirmLabel: "Drain",
                message: "It stays registered with status draining: clients that honour the status stop sending it new work." }
            : { title: "Undrain " + name + "?", confirmLabel: "Undrain", message: "Its status goes back to up." });
          if (!confirmed) return;
          await perform((draining ? "Drain " : "Undrain ") + name, () =>
            request("PATCH", instancePath(instance.namespace, instance.service, instance.id),
              { body: { status: draining ? "draining" : "up" } }));
        }

        async function deregister(instance) {
          const name = instance.service + "/" + instance.id;
          const confirmed = await confirmAction({ title: "Deregister " + name + "?", confirmLabel: "Deregister",
            message: "It is removed from the registry now; a process that still runs may register it again." });
          if (!confirmed) return;
          await perform("Deregister " + name, () =>
            request("DELETE", instancePath(instance.namespace, instance.service, instance.id)));
        }

        async function transfer(member) {
          const confirmed = await confirmAction({ title: "Make " + member + " the leader?", confirmLabel: "Transfer leadership",
            message: "The current leader hands over to " + member + "; writes pause for about one round trip." });
          if (!confirmed) return;
          await perform("Leadership transfer to " + member, () =>
            request("POST", "/v1/cluster/transfer-leadership", { body: { to: member }, timeoutMs: 10000 }));
        }

        // MARK: - Start

        function debounce(work, ms) {
          let timer = 0;
          return (...values) => {
            clearTimeout(timer);
            timer = setTimeout(() => work(...values), ms);
          };
        }

        byId("filter").addEventListener("input", debounce((event) => {
          page.instanceFilter = event.target.value;
          byId("instances").scrollTop = 0;
          invalidate("instances");
        }, 80));
        byId("service-filter").addEventListener("input", (event) => {
          page.serviceFilter = event.target.value;
          invalidate("services");
        });
        // An edited or bookmarked address (#namespace=…&service=…) switches the view without a reload.
        window.addEventListener("hashchange", () => {
          const wanted = readLocation();
          if (wanted.namespace !== page.model.namespace) {
            byId("namespace").value = wanted.namespace;
            openNamespace(wanted.namespace);
          }
          const selected = page.model.selected ? page.model.selected.name : null;
          if (wanted.service && wanted.service !== selected) selectService(wanted.service);
        });
        byId("namespace-form").addEventListener("submit", (event) => {
          event.preventDefault();
          const namespace = byId("namespace").value.trim();
          if (namespace && namespace !== page.model.namespace) openNamespace(namespace);
        });

        const start = readLocation();
        byId("namespace").value = start.namespace;
        openNamespace(start.namespace);
        if (start.service) selectService(start.service);
        else invalidate("instances");
        pollCluster();
        setInterval(tick, 1000);
        """#
}
