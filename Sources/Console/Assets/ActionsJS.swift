// The console's actions.js: edit it here; the node serves these exact bytes at /ui/actions.js.
extension ConsoleAssets {
    /// The confirmed actions: drain or undrain, deregister, leadership transfer.
    static let actionsJS = #"""
        // The console's actions, each behind a confirmation that says what will happen: drain or undrain an
        // instance, deregister it, and hand leadership to another voter. The outcome is shown as a toast.
        import { instancePath, request } from "./api.js";
        import { confirmAction, toast } from "./dialog.js";

        async function perform(description, work) {
          try {
            await work();
            toast(description + ": done");
          } catch (error) {
            toast(description + " failed: " + error.message + (error.code ? " (" + error.code + ")" : ""), true);
          }
        }

        /** Sets an instance's status to draining (or, when it drains, back to up): `PATCH` of its status. */
        export async function drain(instance) {
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

        /** Removes an instance from the registry: `DELETE`. */
        export async function deregister(instance) {
          const name = instance.service + "/" + instance.id;
          const confirmed = await confirmAction({ title: "Deregister " + name + "?", confirmLabel: "Deregister",
            message: "It is removed from the registry now; a process that still runs may register it again." });
          if (!confirmed) return;
          await perform("Deregister " + name, () =>
            request("DELETE", instancePath(instance.namespace, instance.service, instance.id)));
        }

        /** Asks this node, which leads, to hand leadership to `member`: `POST /v1/cluster/transfer-leadership`. */
        export async function transfer(member) {
          const confirmed = await confirmAction({ title: "Make " + member + " the leader?", confirmLabel: "Transfer leadership",
            message: "The current leader hands over to " + member + "; writes pause for about one round trip." });
          if (!confirmed) return;
          await perform("Leadership transfer to " + member, () =>
            request("POST", "/v1/cluster/transfer-leadership", { body: { to: member }, timeoutMs: 10000 }));
        }
        """#
}
