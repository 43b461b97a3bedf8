// The console's index.html: edit it here; the node serves these exact bytes at /ui/.
extension ConsoleAssets {
    /// The page: header, member table, services, the instance list, events, and the confirmation dialog.
    static let indexHTML = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Roster console</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="style.css">
        <script type="module" src="app.js"></script>
        </head>
        <body>
        <header class="top">
          <span class="brand">Roster</span>
          <span class="fact">node <b id="node-name">…</b></span>
          <span id="ready-pill" class="pill muted">checking</span>
          <span class="fact">leader <b id="leader-name">…</b></span>
          <span class="fact">term <b id="term">…</b></span>
          <span class="fact">revision <b id="revision">0</b></span>
          <span class="spacer-flex"></span>
          <form id="namespace-form" class="namespace">
            <label for="namespace">namespace</label>
            <input id="namespace" name="namespace" autocomplete="off" spellcheck="false">
          </form>
          <span id="feed-state" class="feed" data-state="starting">starting</span>
        </header>
        <div id="banner" class="banner" role="alert" hidden></div>
        <main>
          <section class="card" aria-labelledby="members-title">
            <h2 id="members-title">Members</h2>
            <table class="members">
              <thead>
                <tr><th>Name</th><th>Membership</th><th>Role</th><th>Term</th><th>Applied / commit</th><th>Revision</th>
                  <th>Its leader</th><th>Health</th><th>Client address</th><th></th></tr>
              </thead>
              <tbody id="members-body"></tbody>
            </table>
            <p id="members-note" class="muted-text" hidden>Leadership transfers are made by the leader: open
              <a id="leader-console" href="./">the leader's console</a> to move it.</p>
          </section>
          <div class="columns">
            <section class="card services" aria-labelledby="services-title">
              <h2 id="services-title">Services</h2>
              <input id="service-filter" type="search" placeholder="Filter services" autocomplete="off">
              <ul id="services" class="service-list"></ul>
            </section>
            <section class="card instances" aria-labelledby="service-title">
              <div class="instances-head">
                <h2 id="service-title">Instances</h2>
                <span id="instance-count" class="muted-text"></span>
                <span class="spacer-flex"></span>
                <input id="filter" type="search" placeholder="Filter by id, endpoint, status, metadata" autocomplete="off">
              </div>
              <div class="row header" role="row">
                <div class="cell">ID</div><div class="cell">Status</div><div class="cell">Weight</div>
                <div class="cell">Endpoints</div><div class="cell">Metadata</div><div class="cell">Lease</div>
                <div class="cell">TTL left</div><div class="cell"></div>
              </div>
              <div id="instances" class="viewport" role="table" aria-label="Instances"></div>
              <p class="muted-text"><span id="instances-note"></span> <span id="load-time"></span></p>
            </section>
            <section class="card events" aria-labelledby="events-title">
              <h2 id="events-title">Recent events</h2>
              <ol id="events" class="event-list"></ol>
            </section>
          </div>
        </main>
        <dialog id="confirm" aria-labelledby="confirm-title">
          <h3 id="confirm-title"></h3>
          <p id="confirm-message"></p>
          <div class="dialog-buttons">
            <button id="confirm-cancel" type="button">Cancel</button>
            <button id="confirm-ok" type="button" class="primary"></button>
          </div>
        </dialog>
        <dialog id="login" aria-labelledby="login-title">
          <form id="login-form" method="dialog">
            <h3 id="login-title">Sign in</h3>
            <p id="login-message">Auth is enabled on this cluster.</p>
            <label>User <input id="login-user" name="user" autocomplete="username" required></label>
            <label>Password <input id="login-password" name="password" type="password" autocomplete="current-password"></label>
            <div class="dialog-buttons">
              <button id="login-ok" type="submit" class="primary">Sign in</button>
            </div>
          </form>
        </dialog>
        <div id="toast" class="toast" role="status" hidden></div>
        </body>
        </html>
        """#
}
