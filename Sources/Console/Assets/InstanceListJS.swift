// The console's instance-list.js: edit it here; the node serves these exact bytes at /ui/instance-list.js.
extension ConsoleAssets {
    /// The virtualised list that keeps 10,000 instances fast.
    static let instanceListJS = #"""
        // A virtualised list: only the rows in view (plus a few either side) exist in the DOM, so a service with
        // 10,000 instances scrolls and updates as fast as one with ten.

        const overscanRows = 6;

        export class VirtualList {
          /**
           * @param {HTMLElement} viewport a scrolling element with a fixed height
           * @param {number} rowHeight pixels per row; every row has this height
           * @param {(row: HTMLElement) => void} createRow builds the cells of an empty row element once
           * @param {(row: HTMLElement, item: any) => void} fillRow writes one item into a row
           */
          constructor(viewport, rowHeight, createRow, fillRow) {
            this.viewport = viewport;
            this.rowHeight = rowHeight;
            this.createRow = createRow;
            this.fillRow = fillRow;
            this.items = [];
            this.spacer = document.createElement("div");
            this.spacer.className = "spacer";
            this.viewport.appendChild(this.spacer);
            this.rows = [];
            this.scheduled = false;
            this.viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
            new ResizeObserver(() => this.schedule()).observe(this.viewport);
          }

          /** Replaces the items (already filtered and sorted) and redraws the rows in view. */
          setItems(items) {
            this.items = items;
            this.spacer.style.height = items.length * this.rowHeight + "px";
            this.render();
          }

          /** The items whose rows are drawn now. */
          visibleItems() {
            return this.rows.filter((row) => !row.hidden).map((row) => row.item);
          }

          schedule() {
            if (this.scheduled) return;
            this.scheduled = true;
            requestAnimationFrame(() => {
              this.scheduled = false;
              this.render();
            });
          }

          render() {
            const height = this.viewport.clientHeight || 600;
            const first = Math.max(0, Math.floor(this.viewport.scrollTop / this.rowHeight) - overscanRows);
            const last = Math.min(this.items.length, Math.ceil((this.viewport.scrollTop + height) / this.rowHeight) + overscanRows);
            const needed = last - first;
            while (this.rows.length < needed) {
              const row = document.createElement("div");
              row.className = "row";
              row.setAttribute("role", "row");
              this.createRow(row);
              this.viewport.appendChild(row);
              this.rows.push(row);
            }
            for (let slot = 0; slot < this.rows.length; slot += 1) {
              const row = this.rows[slot];
              if (slot >= needed) {
                row.hidden = true;
                row.item = null;
                continue;
              }
              const position = first + slot;
              row.hidden = false;
              row.item = this.items[position];
              row.style.transform = "translateY(" + position * this.rowHeight + "px)";
              this.fillRow(row, row.item);
            }
          }
        }
        """#
}
