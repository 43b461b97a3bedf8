// The console's dialog.js: edit it here; the node serves these exact bytes at /ui/dialog.js.
extension ConsoleAssets {
    /// The confirmation dialog and the toast.
    static let dialogJS = #"""
        // The confirmation every action goes through: a modal that names what will happen, defaulting to Cancel.

        /**
         * Asks the user to confirm an action.
         * @param {{title: string, message: string, confirmLabel: string}} question
         * @returns {Promise<boolean>} true only when the confirm button was pressed
         */
        export function confirmAction(question) {
          const dialog = document.getElementById("confirm");
          document.getElementById("confirm-title").textContent = question.title;
          document.getElementById("confirm-message").textContent = question.message;
          const ok = document.getElementById("confirm-ok");
          const cancel = document.getElementById("confirm-cancel");
          ok.textContent = question.confirmLabel;
          return new Promise((resolve) => {
            const finish = (answer) => {
              ok.removeEventListener("click", onOK);
              cancel.removeEventListener("click", onCancel);
              dialog.removeEventListener("cancel", onCancel);
              if (dialog.open) dialog.close();
              resolve(answer);
            };
            const onOK = () => finish(true);
            const onCancel = (event) => {
              event.preventDefault();
              finish(false);
            };
            ok.addEventListener("click", onOK);
            cancel.addEventListener("click", onCancel);
            dialog.addEventListener("cancel", onCancel);
            dialog.showModal();
            cancel.focus();
          });
        }

        /** Shows a short message at the bottom of the page; errors stay until the next message. */
        export function toast(text, isError) {
          const element = document.getElementById("toast");
          element.textContent = text;
          element.className = isError ? "toast error" : "toast";
          element.hidden = false;
          clearTimeout(toast.timer);
          if (!isError) toast.timer = setTimeout(() => { element.hidden = true; }, 4000);
        }
        """#
}
