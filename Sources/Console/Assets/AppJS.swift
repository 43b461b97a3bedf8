// The console's app.js: edit it here; the node serves these exact bytes at /ui/app.js.
extension ConsoleAssets {
    /// The entry module: page state, rendering once per frame, service selection and namespaces.
    static let appJS = #"""
        // The console's entry module: the page state, rendering once per frame, service selection and namespaces.
        // Registry data comes from one listing plus a watch stream (WatchFeed), cluster metadata from ClusterWatch,
        // TTLs from LeaseClock; the actions (actions.js) each ask for a confirmation first.
        import { deregister, drain, transfer } from "./actions.js";
        import { getJSON } from "./api.js";
        import { ClusterWatch, renderCluster } from "./cluster.js";
        import { VirtualList } from "./instance-list.js";
        import { LeaseClock } from "./leases.js";
        import { RegistryModel } from "./model.js";
        import * as views from "./views.js";
        import { WatchFeed } from "./watch.js";

        const rowHeight = 34;
        const byId = (id) => document.getElementById(id);

        const page = {
          model: null,
          feed: null,
          instanceFilter: "",
          serviceFilter: "",
          shownVersion: -1,
          shownFilter: null,
          dirty: new Set(),
          loadStartedAt: 0,
          lastFeedNote: null,
        };

        const cluster = new ClusterWatch(() => invalidate("cluster"));
        const leases = new LeaseClock(() => invalidate("instances"));
        const list = new VirtualList(byId("instances"), rowHeight,
          (row) => views.createInstanceRow(row, { drain, deregister }),
          (row, instance) => views.fillInstanceRow(row, instance, (lease) => leases.text(lease)));

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
          if (dirty.has("cluster")) renderCluster(cluster, transfer);
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

        /** Once a second: count TTLs down, and refresh those of the rows in view. */
        function tick() {
          leases.refresh(list.visibleItems());
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
        cluster.start();
        setInterval(tick, 1000);
        """#
}
