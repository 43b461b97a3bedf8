// The console's model.js: edit it here; the node serves these exact bytes at /ui/model.js.
extension ConsoleAssets {
    /// The in-page model of one namespace, kept current by applying watch events.
    static let modelJS = #"""
        // The in-page copy of one namespace of the registry: services with instance counts, the selected service's
        // instances, and the recent events. Filled by one listing each, then kept current by applying watch events.

        const recentEventLimit = 200;

        export class RegistryModel {
          constructor(namespace) {
            this.namespace = namespace;
            /** Service name → instance count, from `GET /v1/services` then put/delete events. */
            this.services = new Map();
            /** The highest revision any event or progress line carried. */
            this.revision = 0;
            /**
             * The highest revision whose events have all arrived: a reconnect resumes after it. Events at
             * `revision` may still be partial (the stream can end inside a multi-key revision), so their keys are
             * remembered to drop the ones a resumed stream delivers again.
             */
            this.completeRevision = 0;
            this.keysAtRevision = new Set();
            /** The selected service: its instances by id, the revision its listing reflects, events held while it loads. */
            this.selected = null;
            this.events = [];
            this.listeners = new Set();
            this.servicesVersion = 0;
            this.instancesVersion = 0;
            this.eventsVersion = 0;
            this.listings = 0;
            /** The revision of the last services listing: the watch stream delivers every event after it. */
            this.streamStart = 0;
          }

          onChange(listener) {
            this.listeners.add(listener);
          }

          changed(what) {
            if (what === "services") this.servicesVersion += 1;
            if (what === "instances") this.instancesVersion += 1;
            if (what === "events") this.eventsVersion += 1;
            for (const listener of this.listeners) listener(what);
          }

          /** Replaces the services with a listing at `revision`; the watch resumes after it. */
          resetServices(services, revision) {
            this.services = new Map(services.map((service) => [service.name, service.instances]));
            this.revision = revision;
            this.completeRevision = revision;
            this.keysAtRevision.clear();
            this.streamStart = revision;
            this.listings += 1;
            this.changed("services");
            // The stream resumes after `revision`: a selected service listed before it would miss the events in
            // between, and a listing after the first one replaces a state that missed events. Either lists again.
            const selection = this.selected;
            if (selection && (this.listings > 1 || (!selection.loading && selection.revision < revision))) {
              this.changed("relisted");
            }
          }

          /** Starts showing `name`: its instances stay empty (and events for it are held) until `loaded`. */
          select(name) {
            this.selected = name === null ? null :
              { name, instances: new Map(), revision: 0, loading: true, held: [], error: null };
            this.changed("instances");
            return this.selected;
          }

          /**
           * Fills the selected service from its listing at `revision`, then applies the events held meanwhile.
           * @returns false when the listing is older than the stream's start (events in between would be lost): ask
           *   again; true otherwise, including when the selection has changed since.
           */
          loaded(selection, instances, revision) {
            if (this.selected !== selection) return true;
            if (revision < this.streamStart) return false;
            selection.instances = new Map(instances.map((instance) => [instance.id, instance]));
            selection.revision = revision;
            selection.loading = false;
            selection.error = null;
            for (const event of selection.held) this.applyToSelected(selection, event);
            selection.held = [];
            this.changed("instances");
            return true;
          }

          /**
           * Starts (or restarts) listing the selected service: events held so far are dropped, because the listing
           * about to be asked for reflects them (it is read on this node after they were applied), while events that
           * arrive until it answers are held and applied after it.
           */
          retryLoading(selection) {
            selection.held = [];
          }

          failedLoading(selection, error) {
            if (this.selected !== selection) return;
            selection.error = error;
            this.changed("instances");
          }

          /** A progress line: every event up to `revision` has arrived. */
          progress(revision) {
            if (revision > this.revision) {
              this.revision = revision;
              this.keysAtRevision.clear();
            }
            this.completeRevision = Math.max(this.completeRevision, revision);
          }

          /** Applies one watch event line (with `prev_value=true`, so a put says whether the key existed). */
          apply(event) {
            if (event.revision <= this.completeRevision) return;
            if (event.revision > this.revision) {
              this.completeRevision = this.revision;
              this.revision = event.revision;
              this.keysAtRevision.clear();
            }
            if (this.keysAtRevision.has(event.key)) return;
            this.keysAtRevision.add(event.key);
            const instance = event.instance || event.prev_instance;
            this.record(event, instance);
            if (!instance) return;
            const delta = (event.instance ? 1 : 0) - (event.prev_instance ? 1 : 0);
            if (delta !== 0) {
              const count = (this.services.get(instance.service) || 0) + delta;
              if (count > 0) this.services.set(instance.service, count);
              else this.services.delete(instance.service);
              this.changed("services");
            }
            const selection = this.selected;
            if (selection && selection.name === instance.service) {
              if (selection.loading) selection.held.push(event);
              else if (this.applyToSelected(selection, event)) this.changed("instances");
            }
          }

          applyToSelected(selection, event) {
            if (event.revision <= selection.revision) return false;
            const instance = event.instance || event.prev_instance;
            if (event.type === "put" && event.instance) selection.instances.set(instance.id, event.instance);
            else selection.instances.delete(instance.id);
            return true;
          }

          record(event, instance) {
            this.events.unshift({
              revision: event.revision,
              type: event.type,
              cause: event.cause,
              name: instance ? instance.service + "/" + instance.id : event.key,
              status: event.instance ? event.instance.status : null,
              at: new Date(),
            });
            if (this.events.length > recentEventLimit) this.events.length = recentEventLimit;
            this.changed("events");
          }

          /** A line in the event list that is not an event (a resync, a reconnect). */
          note(text) {
            this.events.unshift({ revision: this.revision, type: "note", cause: text, name: "", status: null, at: new Date() });
            if (this.events.length > recentEventLimit) this.events.length = recentEventLimit;
            this.changed("events");
          }
        }
        """#
}
