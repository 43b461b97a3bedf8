// The console's views.js: edit it here; the node serves these exact bytes at /ui/views.js.
extension ConsoleAssets {
    /// Rendering of members, services, instance rows and events (text only, never HTML from data).
    static let viewsJS = #"""
        // Rendering: members, services, instance rows and events, always through textContent (registry data is
        // never parsed as HTML), and small helpers to build elements.

        /** An element with a class and text. */
        export function element(tag, className, text) {
          const node = document.createElement(tag);
          if (className) node.className = className;
          if (text !== undefined && text !== null) node.textContent = text;
          return node;
        }

        /** How a member looks from here: its own status when it answered, else why not. */
        export function memberHealth(status) {
          if (!status) return { label: "checking", tone: "muted" };
          if (status.error) return { label: "unreachable", tone: "bad" };
          if (!status.leader) return { label: "no leader", tone: "bad" };
          if (status.applied_index < status.commit_index) return { label: "catching up", tone: "warn" };
          return { label: "healthy", tone: "good" };
        }

        /**
         * The member table: one row per member with its configuration role, its own view (role, term, applied index,
         * revision, leader) and health, and, when this node leads (only the leader takes transfer requests), a
         * leadership transfer action for voters that do not lead.
         */
        export function renderMembers(tbody, members, statuses, leaderName, canTransfer, onTransfer) {
          tbody.replaceChildren();
          for (const member of members) {
            const status = statuses.get(member.name);
            const live = status && !status.error ? status : null;
            const row = element("tr");
            row.dataset.member = member.name;
            const isLeader = member.name === leaderName;
            row.dataset.leader = String(isLeader);
            const name = element("td", "name");
            name.append(element("span", "", member.name));
            if (isLeader) name.append(element("span", "badge leader", "leader"));
            if (member.self) name.append(element("span", "badge", "this node"));
            row.append(name);
            row.append(element("td", "", member.role));
            row.append(element("td", "role", live ? live.role : "—"));
            row.append(element("td", "num", live ? String(live.term) : "—"));
            row.append(element("td", "num", live ? live.applied_index + " / " + live.commit_index : "—"));
            row.append(element("td", "num", live ? String(live.revision) : "—"));
            row.append(element("td", "", live ? live.leader || "none" : "—"));
            const health = memberHealth(status);
            const healthCell = element("td");
            healthCell.append(element("span", "pill " + health.tone, health.label));
            healthCell.title = status && status.error ? status.error : "";
            row.append(healthCell);
            row.append(element("td", "mono", member.client_address || "—"));
            const action = element("td");
            if (canTransfer && member.role === "voter" && !isLeader) {
              const button = element("button", "small", "Make leader");
              button.dataset.action = "transfer";
              button.dataset.member = member.name;
              button.addEventListener("click", () => onTransfer(member.name));
              action.append(button);
            }
            row.append(action);
            tbody.append(row);
          }
        }

        /** The services list, sorted by name, with counts; the selected one is marked. */
        export function renderServices(list, services, selectedName, filter, onSelect) {
          list.replaceChildren();
          const names = [...services.keys()].sort();
          const needle = filter.trim().toLowerCase();
          for (const name of names) {
            if (needle && !name.toLowerCase().includes(needle)) continue;
            const item = element("li");
            item.dataset.service = name;
            const button = element("button", name === selectedName ? "service selected" : "service");
            button.append(element("span", "service-name", name));
            button.append(element("span", "count", services.get(name).toLocaleString()));
            button.addEventListener("click", () => onSelect(name));
            item.append(button);
            list.append(item);
          }
          if (names.length === 0) list.append(element("li", "empty", "No services in this namespace yet."));
        }

        /** The recent events, newest first. */
        export function renderEvents(list, events, limit) {
          list.replaceChildren();
          for (const event of events.slice(0, limit)) {
            const item = element("li", "event " + event.type);
            item.dataset.revision = String(event.revision);
            item.append(element("span", "time", event.at.toLocaleTimeString()));
            item.append(element("span", "rev", "r" + event.revision));
            item.append(element("span", "cause " + (event.cause || ""), event.cause));
            item.append(element("span", "what", event.name + (event.status ? " (" + event.status + ")" : "")));
            list.append(item);
          }
          if (events.length === 0) list.append(element("li", "empty", "Events appear here as they happen."));
        }

        /** Builds the cells of an instance row once; `fillInstanceRow` writes them. */
        export function createInstanceRow(row, actions) {
          for (const name of ["id", "status", "weight", "endpoints", "metadata", "lease", "ttl"]) {
            const cell = element("div", "cell " + name);
            cell.setAttribute("role", "cell");
            row.append(cell);
          }
          const cell = element("div", "cell actions");
          const drain = element("button", "small", "Drain");
          drain.dataset.action = "drain";
          drain.addEventListener("click", () => actions.drain(row.item));
          const remove = element("button", "small danger", "Deregister");
          remove.dataset.action = "deregister";
          remove.addEventListener("click", () => actions.deregister(row.item));
          cell.append(drain, remove);
          row.append(cell);
        }

        /** Writes one instance into a row; `ttl(lease)` gives the remaining-TTL text. */
        export function fillInstanceRow(row, instance, ttl) {
          row.dataset.id = instance.id;
          const cells = row.children;
          cells[0].textContent = instance.id;
          cells[0].title = instance.id + (instance.version ? " · version " + instance.version : "");
          cells[1].replaceChildren(element("span", "pill " + (instance.status === "up" ? "good" : "warn"), instance.status));
          cells[2].textContent = String(instance.weight);
          cells[3].textContent = instance.endpoints.join("  ");
          cells[3].title = instance.endpoints.join("\n");
          const metadata = Object.entries(instance.metadata).map(([key, value]) => key + "=" + value).join("  ");
          cells[4].textContent = metadata;
          cells[4].title = metadata;
          cells[5].textContent = instance.lease === null ? "none" : String(instance.lease);
          cells[6].textContent = instance.lease === null ? "—" : ttl(instance.lease);
          const drain = cells[7].children[0];
          drain.textContent = instance.status === "draining" ? "Undrain" : "Drain";
          drain.dataset.id = instance.id;
          cells[7].children[1].dataset.id = instance.id;
        }
        """#
}
