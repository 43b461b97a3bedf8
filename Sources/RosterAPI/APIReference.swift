// RosterAPI: the HTTP/1.1 face of a Roster node, as a pure translation layer.
//
// `route(_:limits:)` turns a parsed `HTTPRequest` into a `RoutedRequest` (validated, ready for the node);
// `APIResponse` and `WatchLines` turn answers back into bytes. Nothing here does I/O or keeps state, so the
// whole API surface is tested without sockets.
//
// Routes (every read takes `consistency=linearizable|serializable` and `min_revision=R`):
//
//   GET    /healthz  /readyz  /metrics                    .health / .ready / .metrics
//   GET    /v1/services[?namespace=]                      read .services
//   GET    /v1/services/{service}[?namespace=][&revision=R]   read .instances (.instancesAt: as at R, in history)
//   GET    /v1/services/{service}/instances/{id}[?revision=R] read .instance / .instanceAt (404 instance_not_found)
//   PUT    /v1/services/{service}/instances/{id}          write .registerInstance, or .registerWithLease with "ttl"
//   PATCH  /v1/services/{service}/instances/{id}          write .updateInstance (incarnation required)
//   DELETE /v1/services/{service}/instances/{id}[?incarnation=]   write .deregisterInstance
//   GET    /v1/leases                                     read .leases
//   POST   /v1/leases            {"ttl", "id"?}           write .grantLease
//   GET    /v1/leases/{id}[?keys=true]                    read .lease
//   DELETE /v1/leases/{id}                                write .revokeLease
//   POST   /v1/leases/{id}/keepalive[?stream=true]        .keepAlive / .keepAliveStream
//   GET    /v1/watch?service=[&namespace=]|prefix=|key=   .watch; from_revision, prev_value, progress_interval;
//                                                         long poll with index=R[&wait=30s] (max 10m)
//   POST   /v1/watch[?progress_interval=10s]              .watchStream: many watches on one connection. No body;
//                                                         after the 200 head the client writes NDJSON control lines
//                                                         {"create":{"id","service"[,"namespace"]|"prefix"|"key",
//                                                         "from_revision"?,"prev_value"?}} / {"cancel":{"id"}};
//                                                         the server answers created/canceled lines and events
//                                                         tagged "watch":id (`WatchControl`, `WatchStreamLines`)
//   GET    /v1/kv/{key}    ?prefix|range_end|from_key, limit, keys_only, count_only    read .range
//   PUT    /v1/kv/{key}    {"value"|"value_base64", "lease"?, "prev"?}                 write .put
//   DELETE /v1/kv/{key}    ?prefix|range_end|from_key, prev                            write .deleteRange
//   POST   /v1/txn         {"compare", "success", "failure"}                           write .transaction
//   POST   /v1/compact     {"revision"}                                                write .compact
//   GET    /v1/cluster/members                            .members (encodeMembers)
//   POST   /v1/cluster/members   {"name", "peer_address"} admin .addLearner
//   POST   /v1/cluster/members/{name}/promote             admin .promote
//   DELETE /v1/cluster/members/{name}                     admin .remove
//   GET    /v1/cluster/status                             .clusterStatus (encodeStatus)
//   POST   /v1/cluster/transfer-leadership  {"to"?}       admin .transferLeadership (202 when started)
//   GET    /v1/cluster/hash[?revision=R]                  read .hash
//   GET    /v1/sd/prometheus[?service=][&namespace=]      .prometheusTargets (ETag, 304 on If-None-Match)
//   GET    /ui  /ui/  /ui/{file}                          .console: the web console (module `Console`); /ui
//                                                         redirects to /ui/, files carry ETag and no-cache, a
//                                                         query string is the page's and is ignored
//   GET    /v1/snapshot                                   .snapshot (a BackupFile, chunked octet-stream)
//   GET    /v1/alarms                                     .alarms (encodeAlarms, from the applied state)
//   DELETE /v1/alarms                                     write AlarmDirectory.disarmAll
//   POST   /v1/auth/authenticate {"name","password"}      .auth(.authenticate): {"token","expires_in_s"}
//   GET    /v1/auth/status                                .auth(.read(.status)): {"enabled","auth_revision"}
//   POST   /v1/auth/enable | /v1/auth/disable             .auth(.enable) / .auth(.change(.disable))
//   GET|POST /v1/auth/users  {"name","password"|"no_password"}    list / add (password derived off the loop)
//   GET|DELETE /v1/auth/users/{name}; POST /v1/auth/users/{name}/password {"password"}
//   PUT|DELETE /v1/auth/users/{name}/roles/{role}         grant / revoke a role
//   GET|POST /v1/auth/roles {"name"}; GET|DELETE /v1/auth/roles/{name}
//   POST|DELETE /v1/auth/roles/{name}/permissions  {"access"?, "key", "range_end"|"prefix"|"from_key"}
//   With auth on, every route but /healthz, /readyz, /metrics, /ui and authenticate/status needs
//   `Authorization: Bearer <token>` (or a client certificate user); rules in `NodeRequest+Auth.swift`.
//
// Decisions:
// - Strictness: unknown body fields and unknown query parameters are 400 (`unknown_field`,
//   `unknown_parameter`); duplicate JSON keys and repeated query parameters are 400; `null` means absent.
// - Bytes: keys and values are JSON strings when UTF-8, else `<name>_base64` (standard, padded, canonical).
//   Instance records appear as an `instance` object. Node IDs are 16 hex digits; lease IDs, revisions and
//   incarnations are JSON integers.
// - Durations: "500ms", "15s", "2m", "1h" or an integer number of seconds; no fractions.
// - Statuses: see `APIError` (400 for every client mistake, never 422; 500 `indeterminate`).
