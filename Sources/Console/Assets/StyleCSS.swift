// The console's style.css: edit it here; the node serves these exact bytes at /ui/style.css.
extension ConsoleAssets {
    /// The stylesheet.
    static let styleCSS = #"""
        /* Roster console: a quiet, readable layout; colour only for state (healthy, warning, failing). */
        :root {
          --bg: #f6f7f9;
          --card: #ffffff;
          --line: #e3e6eb;
          --text: #1d2330;
          --muted: #6b7385;
          --accent: #2563eb;
          --good: #15803d;
          --good-bg: #dcfce7;
          --warn: #a16207;
          --warn-bg: #fef3c7;
          --bad: #b91c1c;
          --bad-bg: #fee2e2;
          --row: 34px;
          font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
          color: var(--text);
          background: var(--bg);
        }
        * { box-sizing: border-box; }
        body { margin: 0; }
        h2 { font-size: 15px; margin: 0 0 10px; }
        h3 { margin: 0 0 8px; font-size: 16px; }
        button, input { font: inherit; }
        .mono, .cell.endpoints, .cell.id, .cell.lease { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }

        .top {
          display: flex; align-items: center; gap: 18px; flex-wrap: wrap;
          padding: 10px 20px; background: #111827; color: #e5e7eb;
        }
        .top b { color: #fff; }
        .brand { font-weight: 700; font-size: 16px; letter-spacing: 0.02em; }
        .fact { color: #9ca3af; }
        .spacer-flex { flex: 1; }
        .namespace { display: flex; gap: 6px; align-items: center; color: #9ca3af; }
        .namespace input { width: 10em; padding: 3px 6px; border-radius: 4px; border: 1px solid #374151; background: #1f2937; color: #fff; }
        .feed { padding: 2px 10px; border-radius: 999px; background: #374151; color: #e5e7eb; font-size: 12px; }
        .feed.live { background: var(--good); color: #fff; }
        .feed.reconnecting { background: var(--warn); color: #fff; }

        .banner { padding: 10px 20px; background: var(--bad-bg); color: var(--bad); font-weight: 600; border-bottom: 1px solid #fecaca; }

        main { padding: 16px 20px 40px; display: flex; flex-direction: column; gap: 16px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
        .columns { display: grid; grid-template-columns: 200px minmax(0, 1fr) 260px; gap: 16px; align-items: start; }
        @media (max-width: 1200px) { .columns { grid-template-columns: 200px minmax(0, 1fr); } .events { grid-column: 1 / -1; } }

        table.members { width: 100%; border-collapse: collapse; }
        .members th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 8px; }
        .members td { padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        .members td.num { font-variant-numeric: tabular-nums; }
        .members tr[data-leader="true"] { background: #f0f6ff; }

        .pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
        .pill.good { background: var(--good-bg); color: var(--good); }
        .pill.warn { background: var(--warn-bg); color: var(--warn); }
        .pill.bad { background: var(--bad-bg); color: var(--bad); }
        .pill.muted { background: #e5e7eb; color: var(--muted); }
        .badge { margin-left: 6px; padding: 0 6px; border-radius: 4px; font-size: 11px; background: #e5e7eb; color: var(--muted); }
        .badge.leader { background: var(--accent); color: #fff; }
        .muted-text { color: var(--muted); }

        input[type="search"] { padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; width: 100%; }
        .instances-head { display: flex; align-items: baseline; gap: 12px; margin-bottom: 8px; }
        .instances-head h2 { margin: 0; }
        .instances-head input { max-width: 340px; }

        .service-list { list-style: none; margin: 8px 0 0; padding: 0; max-height: 70vh; overflow: auto; }
        .service { display: flex; justify-content: space-between; width: 100%; gap: 8px; padding: 6px 8px; border: 0; border-radius: 6px; background: none; cursor: pointer; text-align: left; }
        .service:hover { background: #f1f3f6; }
        .service.selected { background: #e8f0fe; color: var(--accent); font-weight: 600; }
        .service .count { color: var(--muted); font-variant-numeric: tabular-nums; }
        .service-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .empty { color: var(--muted); padding: 6px 8px; }

        .row {
          display: grid; align-items: center; height: var(--row);
          grid-template-columns: minmax(6rem, 1fr) 5.5rem 3.5rem minmax(8rem, 1.6fr) minmax(6rem, 1.2fr) 3.5rem 6.5rem 10.5rem;
          gap: 8px; padding: 0 8px; border-bottom: 1px solid var(--line);
        }
        .row.header { color: var(--muted); font-size: 12px; font-weight: 600; height: 28px; }
        /* As tall as its rows, at most 60% of the window; rows are absolutely placed over a spacer of the full height. */
        .viewport { position: relative; max-height: 60vh; min-height: var(--row); overflow-x: hidden; overflow-y: auto; contain: content; }
        .viewport .spacer { width: 1px; }
        .viewport .row { position: absolute; top: 0; left: 0; right: 0; }
        .viewport .row[hidden] { display: none; }
        .viewport .row:hover { background: #fafbfc; }
        .cell { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .cell.weight, .cell.ttl { font-variant-numeric: tabular-nums; }
        .cell.actions { display: flex; gap: 6px; justify-content: flex-end; }

        button.small { padding: 2px 9px; font-size: 12px; border-radius: 5px; border: 1px solid var(--line); background: #fff; cursor: pointer; }
        button.small:hover { border-color: var(--accent); color: var(--accent); }
        button.small.danger:hover { border-color: var(--bad); color: var(--bad); }

        .event-list { list-style: none; margin: 0; padding: 0; max-height: 70vh; overflow: auto; font-size: 12.5px; }
        .event { display: grid; grid-template-columns: auto auto 1fr; gap: 2px 8px; padding: 5px 0; border-bottom: 1px solid var(--line); }
        .event .time, .event .rev { color: var(--muted); font-variant-numeric: tabular-nums; }
        .event .what { grid-column: 1 / -1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: ui-monospace, Menlo, Consolas, monospace; }
        .event .cause { font-weight: 600; }
        .event.delete .cause { color: var(--bad); }
        .event.put .cause { color: var(--good); }
        .event.note .cause { color: var(--warn); font-weight: 400; }

        dialog { border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; max-width: 440px; box-shadow: 0 10px 30px rgba(0, 0, 0, 0.2); }
        dialog::backdrop { background: rgba(17, 24, 39, 0.35); }
        .dialog-buttons { display: flex; justify-content: flex-end; gap: 8px; margin-top: 16px; }
        #login-form label { display: block; margin-top: 8px; }
        #login-form input { display: block; width: 100%; margin-top: 4px; padding: 5px 8px; box-sizing: border-box; }
        .dialog-buttons button { padding: 5px 14px; border-radius: 6px; border: 1px solid var(--line); background: #fff; cursor: pointer; }
        .dialog-buttons button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }

        .toast { position: fixed; left: 50%; bottom: 20px; transform: translateX(-50%); padding: 8px 16px; border-radius: 8px; background: #111827; color: #fff; box-shadow: 0 6px 20px rgba(0, 0, 0, 0.2); }
        .toast.error { background: var(--bad); }
        """#
}
