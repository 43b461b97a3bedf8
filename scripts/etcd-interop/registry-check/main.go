// registry-check registers and discovers service instances through etcd's own Go client (clientv3, etcd 3.4) the
// way the go-kratos and kitex etcd registries do, against a 3-member cluster (a real etcd or Roster), and kills
// the leader with SIGKILL in the middle:
//
//   - basics first: Get WithCountOnly/WithKeysOnly/WithLimit, a Txn comparing a key's lease (LeaseValue), a Txn
//     on version/create/mod/value, KeepAliveOnce, Leases, TimeToLive with keys, Revoke of an unknown lease;
//   - N registrants, each with its own client on all endpoints (in a rotated order): Grant (TTL -ttl), Put of
//     `/microservices/<svc>/<id>` (kratos: JSON ServiceInstance) or `kitex/registry-etcd/<svc>/<addr>` (kitex:
//     JSON {network,address,weight,tags}) with the lease, then KeepAlive (one long-lived stream per client);
//   - a discoverer (own client): prefix Get of both namespaces, then prefix Watch of each from the Get's
//     revision+1, calling RequestProgress every 300 ms; it builds the instance set from the events;
//   - once every registrant is discovered and has had a keep-alive answer, the current leader (found with
//     Maintenance.Status on each endpoint) is killed with SIGKILL (its PID comes from -pids endpoint=pid,...);
//   - then for TTL+3 s it checks: every keep-alive channel keeps delivering answers, from a member other than
//     the killed one; no DELETE event for a live registrant; afterwards every key is still there (prefix Get),
//     and the discoverer's set equals the prefix Get once a progress notification shows it has caught up;
//   - finally each registrant deregisters (Delete, then Revoke) and the watch must report every delete;
//   - with -layouts (Roster only), the framework layouts: see layouts.go.
//
// Exit status 0 when every check held, 1 otherwise (each failure is printed as a FAIL line).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

var (
	endpointsFlag = flag.String("endpoints", "127.0.0.1:2379", "comma-separated host:port of every member")
	pidsFlag      = flag.String("pids", "", "endpoint=pid,... of the members (to kill the leader); empty: no kill")
	registrants   = flag.Int("registrants", 6, "service instances to register")
	ttl           = flag.Int64("ttl", 6, "lease TTL, seconds")
	timeout       = flag.Duration("timeout", 5*time.Second, "per-request timeout")
	layoutsFlag   = flag.Bool("layouts", false, "Roster only: also check its kratos/kitex framework layouts through its HTTP API on the same endpoints (layouts.go)")
)

const (
	kratosPrefix = "/microservices/"
	kitexPrefix  = "kitex/registry-etcd/"
)

var (
	failures []string
	failMu   sync.Mutex
	start    = time.Now()
)

func logf(format string, args ...interface{}) {
	fmt.Printf("[%6.2fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

func fail(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	failMu.Lock()
	failures = append(failures, msg)
	failMu.Unlock()
	fmt.Printf("[%6.2fs] FAIL: %s\n", time.Since(start).Seconds(), msg)
}

func check(ok bool, format string, args ...interface{}) bool {
	if !ok {
		fail(format, args...)
	}
	return ok
}

func fatal(format string, args ...interface{}) {
	fail(format, args...)
	summary()
}

func summary() {
	if len(failures) > 0 {
		fmt.Printf("registry-check: %d failure(s):\n", len(failures))
		for _, f := range failures {
			fmt.Println("  - " + f)
		}
		os.Exit(1)
	}
	fmt.Println("registry-check: all checks passed")
	os.Exit(0)
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), *timeout)
}

func newClient(endpoints []string) *clientv3.Client {
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second,
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second})
	if err != nil {
		fatal("clientv3.New(%v): %v", endpoints, err)
	}
	return c
}

func rotate(eps []string, by int) []string {
	out := make([]string, 0, len(eps))
	for i := range eps {
		out = append(out, eps[(i+by)%len(eps)])
	}
	return out
}

// waitFor polls cond every 20 ms until it holds or the deadline passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// ---------------------------------------------------------------------------------------------------------------
// Basics etcdctl 3.4 cannot send.

func basics(c *clientv3.Client) {
	logf("basics: count-only, keys-only, limit, lease compare, txn, keep-alive once, leases, time-to-live")
	cx, cancel := ctx()
	defer cancel()
	for i := 0; i < 3; i++ {
		if _, err := c.Put(cx, fmt.Sprintf("/basics/k%d", i), fmt.Sprintf("v%d", i)); err != nil {
			fatal("basics put: %v", err)
		}
	}
	r, err := c.Get(cx, "/basics/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if check(err == nil, "get WithCountOnly: %v", err) {
		check(r.Count == 3 && len(r.Kvs) == 0, "get WithCountOnly: want count 3 and no kvs, got count %d, %d kvs", r.Count, len(r.Kvs))
	}
	r, err = c.Get(cx, "/basics/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(2))
	if check(err == nil, "get WithKeysOnly WithLimit(2): %v", err) {
		check(r.Count == 3 && len(r.Kvs) == 2 && r.More && len(r.Kvs[0].Value) == 0 && string(r.Kvs[0].Key) == "/basics/k0",
			"get WithKeysOnly WithLimit(2): want count 3, 2 keys without values from /basics/k0, more; got count %d, kvs %v, more %v", r.Count, r.Kvs, r.More)
	}
	g, err := c.Grant(cx, 30)
	if err != nil {
		fatal("grant: %v", err)
	}
	check(g.TTL == 30, "grant 30: TTL %d", g.TTL)
	if _, err = c.Put(cx, "/basics/leased", "x", clientv3.WithLease(g.ID)); err != nil {
		fatal("put with lease: %v", err)
	}
	t, err := c.Txn(cx).If(clientv3.Compare(clientv3.LeaseValue("/basics/leased"), "=", g.ID)).
		Then(clientv3.OpPut("/basics/lease-cmp", "equal")).Else(clientv3.OpPut("/basics/lease-cmp", "differs")).Commit()
	if check(err == nil, "txn lease compare: %v", err) {
		check(t.Succeeded, "txn LeaseValue(/basics/leased) = granted lease: not succeeded")
	}
	t, err = c.Txn(cx).If(clientv3.Compare(clientv3.LeaseValue("/basics/k0"), "!=", clientv3.NoLease)).
		Then(clientv3.OpPut("/basics/lease-cmp2", "x")).Commit()
	if check(err == nil, "txn lease compare on an unleased key: %v", err) {
		check(!t.Succeeded, "txn LeaseValue(/basics/k0) != 0 succeeded on a key without lease")
	}
	t, err = c.Txn(cx).If(
		clientv3.Compare(clientv3.Version("/basics/k1"), "=", 1),
		clientv3.Compare(clientv3.CreateRevision("/basics/none"), "=", 0),
		clientv3.Compare(clientv3.ModRevision("/basics/k1"), "<", r.Header.Revision+1),
		clientv3.Compare(clientv3.Value("/basics/k1"), "=", "v1"),
	).Then(clientv3.OpPut("/basics/k1", "v1b"), clientv3.OpGet("/basics/k1"), clientv3.OpGet("/basics/", clientv3.WithPrefix(), clientv3.WithCountOnly())).Commit()
	if check(err == nil, "txn version/create/mod/value: %v", err) && check(t.Succeeded && len(t.Responses) == 3, "txn version/create/mod/value: not succeeded or %d responses", len(t.Responses)) {
		kvs := t.Responses[1].GetResponseRange().Kvs
		check(len(kvs) == 1 && string(kvs[0].Value) == "v1b", "a get inside a txn must see the txn's earlier put: %v", kvs)
		check(t.Responses[2].GetResponseRange().Count == 5, "count-only inside a txn: want 5, got %d", t.Responses[2].GetResponseRange().Count)
	}
	ka, err := c.KeepAliveOnce(cx, g.ID)
	if check(err == nil, "KeepAliveOnce: %v", err) {
		check(ka.TTL == 30 && ka.ID == g.ID, "KeepAliveOnce: want TTL 30 for %x, got %d for %x", g.ID, ka.TTL, ka.ID)
	}
	ls, err := c.Leases(cx)
	if check(err == nil, "Leases: %v", err) {
		found := false
		for _, l := range ls.Leases {
			found = found || l.ID == g.ID
		}
		check(found, "Leases does not list %x: %v", g.ID, ls.Leases)
	}
	tl, err := c.TimeToLive(cx, g.ID, clientv3.WithAttachedKeys())
	if check(err == nil, "TimeToLive: %v", err) {
		check(tl.GrantedTTL == 30 && tl.TTL > 0 && tl.TTL <= 30 && len(tl.Keys) == 1 && string(tl.Keys[0]) == "/basics/leased",
			"TimeToLive with keys: granted %d ttl %d keys %q", tl.GrantedTTL, tl.TTL, tl.Keys)
	}
	_, err = c.Revoke(cx, g.ID)
	check(err == nil, "Revoke: %v", err)
	tl, err = c.TimeToLive(cx, g.ID)
	check(err == nil && tl.TTL == -1, "TimeToLive of a revoked lease: want TTL -1 and no error, got %v %v", tl, err)
	_, err = c.Revoke(cx, g.ID)
	check(err != nil && strings.Contains(err.Error(), "requested lease not found"), "Revoke of a revoked lease: want 'requested lease not found', got %v", err)
	_, err = c.KeepAliveOnce(cx, g.ID)
	check(err == rpctypes.ErrLeaseNotFound, "KeepAliveOnce of a revoked lease: want rpctypes.ErrLeaseNotFound, got %v", err)
	if _, err = c.Delete(cx, "/basics/", clientv3.WithPrefix()); err != nil {
		fail("delete /basics/: %v", err)
	}
}

// ---------------------------------------------------------------------------------------------------------------
// The discoverer.

type discoverer struct {
	mu             sync.Mutex
	set            map[string]string
	deletes        map[string]int
	lastRev        int64 // highest revision the watch has vouched for (events or progress notifications)
	progress       int
	events         int
	closed         []string
	compactedOrErr []string
}

func (d *discoverer) snapshot() (map[string]string, int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]string{}
	for k, v := range d.set {
		out[k] = v
	}
	return out, d.lastRev
}

func (d *discoverer) run(c *clientv3.Client, stop context.Context) {
	d.set, d.deletes = map[string]string{}, map[string]int{}
	var revs []int64
	for _, prefix := range []string{kratosPrefix, kitexPrefix} {
		cx, cancel := ctx()
		r, err := c.Get(cx, prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			fatal("discoverer: prefix get %s: %v", prefix, err)
		}
		for _, kv := range r.Kvs {
			d.set[string(kv.Key)] = string(kv.Value)
		}
		revs = append(revs, r.Header.Revision)
	}
	d.lastRev = revs[0]
	for i, prefix := range []string{kratosPrefix, kitexPrefix} {
		wc := c.Watch(stop, prefix, clientv3.WithPrefix(), clientv3.WithRev(revs[i]+1), clientv3.WithPrevKV())
		go d.consume(prefix, wc)
	}
	go func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop.Done():
				return
			case <-tick.C:
				cx, cancel := ctx()
				_ = c.RequestProgress(cx) // errors while the leader is down are expected
				cancel()
			}
		}
	}()
}

func (d *discoverer) consume(prefix string, wc clientv3.WatchChan) {
	for resp := range wc {
		d.mu.Lock()
		if err := resp.Err(); err != nil {
			d.compactedOrErr = append(d.compactedOrErr, fmt.Sprintf("%s: %v", prefix, err))
		}
		if resp.IsProgressNotify() {
			d.progress++
		}
		for _, ev := range resp.Events {
			d.events++
			key := string(ev.Kv.Key)
			switch ev.Type {
			case mvccpb.PUT:
				d.set[key] = string(ev.Kv.Value)
			case mvccpb.DELETE:
				delete(d.set, key)
				d.deletes[key]++
			}
		}
		// A response's header revision vouches for everything up to it on this watch; take the minimum over the two
		// watches by tracking per prefix.
		if resp.Header.Revision > 0 {
			perPrefix[prefix] = resp.Header.Revision
			low := int64(-1)
			for _, p := range []string{kratosPrefix, kitexPrefix} {
				if low < 0 || perPrefix[p] < low {
					low = perPrefix[p]
				}
			}
			if low > d.lastRev {
				d.lastRev = low
			}
		}
		d.mu.Unlock()
	}
	d.mu.Lock()
	d.closed = append(d.closed, prefix)
	d.mu.Unlock()
}

var perPrefix = map[string]int64{}

// ---------------------------------------------------------------------------------------------------------------
// Registrants.

type registrant struct {
	i        int
	key      string
	value    string
	client   *clientv3.Client
	lease    clientv3.LeaseID
	cancel   context.CancelFunc
	mu       sync.Mutex
	answers  []kaAnswer
	closedAt time.Time
}

type kaAnswer struct {
	at     time.Time
	ttl    int64
	member uint64
}

func (r *registrant) answersSince(t time.Time) (n int, members map[uint64]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	members = map[uint64]int{}
	for _, a := range r.answers {
		if a.at.After(t) {
			n++
			members[a.member]++
		}
	}
	return
}

// register: pinned registrants start with the leader as their only endpoint, so their Grant, Put and the
// long-lived LeaseKeepAlive stream go to it; then SetEndpoints gives them every member, as the others have from
// the start. When the leader dies, their keep-alive stream has to move.
func (r *registrant) register(eps []string, pinTo string) {
	if pinTo != "" {
		r.client = newClient([]string{pinTo})
	} else {
		r.client = newClient(rotate(eps, r.i))
	}
	svc := fmt.Sprintf("svc%d", r.i%2)
	if r.i%2 == 0 { // go-kratos: /microservices/<service>/<id>, JSON ServiceInstance
		id := fmt.Sprintf("instance-%d", r.i)
		r.key = kratosPrefix + svc + "/" + id
		b, _ := json.Marshal(map[string]interface{}{"id": id, "name": svc, "version": "v1.0.0",
			"metadata": map[string]string{"zone": "a"}, "endpoints": []string{fmt.Sprintf("grpc://10.0.0.%d:9000", r.i)}})
		r.value = string(b)
	} else { // kitex: kitex/registry-etcd/<service>/<address>, JSON {network,address,weight,tags}
		addr := fmt.Sprintf("10.0.1.%d:8888", r.i)
		r.key = kitexPrefix + svc + "/" + addr
		b, _ := json.Marshal(map[string]interface{}{"network": "tcp", "address": addr, "weight": 10, "tags": map[string]string{}})
		r.value = string(b)
	}
	cx, cancel := ctx()
	defer cancel()
	g, err := r.client.Grant(cx, *ttl)
	if err != nil {
		fatal("registrant %d: grant: %v", r.i, err)
	}
	r.lease = g.ID
	if _, err := r.client.Put(cx, r.key, r.value, clientv3.WithLease(g.ID)); err != nil {
		fatal("registrant %d: put %s with lease: %v", r.i, r.key, err)
	}
	kctx, kcancel := context.WithCancel(context.Background())
	r.cancel = kcancel
	ch, err := r.client.KeepAlive(kctx, g.ID)
	if err != nil {
		fatal("registrant %d: KeepAlive: %v", r.i, err)
	}
	if pinTo != "" {
		select { // the first answer proves the stream is up on the leader
		case a, ok := <-ch:
			if ok {
				r.answers = append(r.answers, kaAnswer{time.Now(), a.TTL, a.MemberId})
			}
		case <-time.After(*timeout):
			fail("registrant %d: no keep-alive answer from %s within %v", r.i, pinTo, *timeout)
		}
		r.client.SetEndpoints(rotate(eps, r.i)...)
	}
	go func() {
		for a := range ch {
			r.mu.Lock()
			r.answers = append(r.answers, kaAnswer{time.Now(), a.TTL, a.MemberId})
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.closedAt = time.Now()
		r.mu.Unlock()
	}()
}

// ---------------------------------------------------------------------------------------------------------------
// The leader.

func findLeader(eps []string, pids map[string]int) (string, uint64, map[uint64]string) {
	ids := map[uint64]string{}
	var leaderEP string
	var leader uint64
	for _, ep := range eps {
		if _, ok := pids[ep]; !ok && len(pids) > 0 {
			continue
		}
		c := newClient([]string{ep})
		cx, cancel := ctx()
		st, err := c.Status(cx, ep)
		cancel()
		c.Close()
		if err != nil {
			logf("status %s: %v", ep, err)
			continue
		}
		ids[st.Header.MemberId] = ep
		if st.Leader == st.Header.MemberId && st.Leader != 0 {
			leaderEP, leader = ep, st.Leader
		}
	}
	return leaderEP, leader, ids
}

func main() {
	flag.Parse()
	eps := strings.Split(*endpointsFlag, ",")
	pids := map[string]int{}
	if *pidsFlag != "" {
		for _, item := range strings.Split(*pidsFlag, ",") {
			parts := strings.SplitN(item, "=", 2)
			pid, err := strconv.Atoi(parts[1])
			if len(parts) != 2 || err != nil {
				fatal("bad -pids item %q", item)
			}
			pids[parts[0]] = pid
		}
	}
	logf("endpoints %v, %d registrants, TTL %ds, kill the leader: %v", eps, *registrants, *ttl, len(pids) > 0)

	admin := newClient(eps)
	basics(admin)
	nestedTxn(admin)
	authCheck(admin, eps)

	stop, stopAll := context.WithCancel(context.Background())
	defer stopAll()
	var leaderEP string
	var leaderID uint64
	if len(pids) > 0 {
		waitFor(15*time.Second, func() bool { leaderEP, leaderID, _ = findLeader(eps, pids); return leaderEP != "" })
		if leaderEP == "" {
			fatal("no member reports itself leader (Maintenance.Status on %v)", eps)
		}
		logf("leader before registration: %s (member %x); registrants 0, 2, 4, ... keep their leases alive through it", leaderEP, leaderID)
	}
	// The discoverer's watch stream also starts on the leader, then gets every endpoint: it has to resume elsewhere.
	dc := newClient(rotate(eps, 1))
	if leaderEP != "" {
		dc.Close()
		dc = newClient([]string{leaderEP})
	}
	d := &discoverer{}
	d.run(dc, stop)
	if leaderEP != "" {
		if !waitFor(10*time.Second, func() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.progress > 0 }) {
			fail("discoverer: no progress notification from the leader %s within 10s of RequestProgress", leaderEP)
		}
		dc.SetEndpoints(rotate(eps, 1)...)
	}

	regs := make([]*registrant, *registrants)
	for i := range regs {
		regs[i] = &registrant{i: i}
		pin := ""
		if i%2 == 0 {
			pin = leaderEP
		}
		regs[i].register(eps, pin)
	}
	want := map[string]string{}
	for _, r := range regs {
		want[r.key] = r.value
	}
	logf("registered %d instances", len(regs))
	if !waitFor(10*time.Second, func() bool { s, _ := d.snapshot(); return equalSets(s, want) }) {
		s, _ := d.snapshot()
		fatal("discoverer did not see every registration within 10s: has %v, want %v", keys(s), keys(want))
	}
	logf("discoverer sees all %d instances", len(want))
	if !waitFor(10*time.Second, func() bool {
		for _, r := range regs {
			if n, _ := r.answersSince(time.Time{}); n == 0 {
				return false
			}
		}
		return true
	}) {
		fail("not every keep-alive channel delivered a first answer within 10s")
	}
	if *layoutsFlag {
		checkLayoutRegistrations(eps, regs)
	}

	// Kill the leader.
	killed := ""
	var killedID uint64
	killAt := time.Now()
	if len(pids) > 0 {
		var ids map[uint64]string
		waitFor(15*time.Second, func() bool { killed, killedID, ids = findLeader(eps, pids); return killed != "" })
		if killed == "" {
			fatal("no member reports itself leader (Maintenance.Status on %v)", eps)
		}
		check(len(ids) == len(pids), "Status answered by %d of %d members", len(ids), len(pids))
		killAt = time.Now()
		if err := syscall.Kill(pids[killed], syscall.SIGKILL); err != nil {
			fatal("kill -9 %d (%s): %v", pids[killed], killed, err)
		}
		logf("killed the leader %s (member %x, pid %d) with SIGKILL", killed, killedID, pids[killed])
		delete(pids, killed)
	}

	// Wait until every keep-alive stream has been answered twice after the kill (so it moved to a live member) and a
	// whole TTL has passed since the kill (a lease whose renewals got lost would have expired by then).
	observe := time.Duration(*ttl*3) * time.Second
	if !waitFor(observe, func() bool {
		if time.Since(killAt) < time.Duration(*ttl)*time.Second {
			return false
		}
		for _, r := range regs {
			if n, _ := r.answersSince(killAt.Add(time.Second)); n < 2 {
				return false
			}
		}
		return true
	}) {
		fail("not every keep-alive stream was answered twice within %.0fs of the kill", observe.Seconds())
	}
	var newLeader string
	if killed != "" {
		waitFor(10*time.Second, func() bool { newLeader, _, _ = findLeader(eps, pids); return newLeader != "" })
		check(newLeader != "" && newLeader != killed, "no new leader among the survivors after the kill (got %q)", newLeader)
		logf("new leader: %s", newLeader)
	}
	for _, r := range regs {
		n, members := r.answersSince(killAt.Add(time.Second))
		r.mu.Lock()
		closedAt := r.closedAt
		r.mu.Unlock()
		before, membersBefore := r.answersSince(time.Time{})
		logf("registrant %d (%s): %d keep-alive answers (members %v), %d after the kill (members %v)", r.i, r.key, before, hexKeys(membersBefore), n, hexKeys(members))
		check(closedAt.IsZero(), "registrant %d (%s): keep-alive channel closed at +%.1fs", r.i, r.key, closedAt.Sub(start).Seconds())
		check(n >= 2, "registrant %d (%s): %d keep-alive answers after the kill (want >= 2: the stream did not move to another member)", r.i, r.key, n)
		if killedID != 0 && killedID == leaderID && r.i%2 == 0 {
			check(membersBefore[killedID] > 0, "registrant %d: pinned to the leader %x, but no keep-alive answer came from it before the kill", r.i, killedID)
		}
		if killedID != 0 {
			check(members[killedID] == 0, "registrant %d: keep-alive answers after the kill came from the killed member %x", r.i, killedID)
		}
		r.mu.Lock()
		for _, a := range r.answers {
			check(a.ttl > 0, "registrant %d: keep-alive answer with TTL %d", r.i, a.ttl)
		}
		r.mu.Unlock()
	}

	// No registration lost, no spurious delete, discoverer consistent with a prefix get.
	got := map[string]string{}
	var getRev int64
	for _, prefix := range []string{kratosPrefix, kitexPrefix} {
		var r *clientv3.GetResponse
		var err error
		waitFor(10*time.Second, func() bool {
			cx, cancel := ctx()
			r, err = admin.Get(cx, prefix, clientv3.WithPrefix())
			cancel()
			return err == nil
		})
		if err != nil {
			fatal("prefix get %s after the kill: %v", prefix, err)
		}
		for _, kv := range r.Kvs {
			got[string(kv.Key)] = string(kv.Value)
			if want[string(kv.Key)] != "" {
				for _, reg := range regs {
					if reg.key == string(kv.Key) {
						check(clientv3.LeaseID(kv.Lease) == reg.lease, "%s: lease %x, want %x", kv.Key, kv.Lease, reg.lease)
					}
				}
			}
		}
		if r.Header.Revision > getRev {
			getRev = r.Header.Revision
		}
	}
	check(equalSets(got, want), "registrations lost or changed after the leader kill: prefix get has %v, want %v", keys(got), keys(want))
	if !waitFor(10*time.Second, func() bool { _, rev := d.snapshot(); return rev >= getRev }) {
		_, rev := d.snapshot()
		fail("the watch never caught up with revision %d (progress notifications / events reached %d)", getRev, rev)
	}
	s, _ := d.snapshot()
	check(equalSets(s, got), "the set built from watch events differs from the prefix get: events %v, get %v", keys(s), keys(got))
	d.mu.Lock()
	for k, n := range d.deletes {
		fail("spurious DELETE event(s) for %s (%d) while its registrant is alive", k, n)
	}
	check(d.progress > 0, "no progress notification answered RequestProgress (%d events seen)", d.events)
	check(len(d.closed) == 0, "watch channel(s) closed: %v", d.closed)
	for _, e := range d.compactedOrErr {
		fail("watch error: %s", e)
	}
	logf("watch: %d events, %d progress notifications", d.events, d.progress)
	d.mu.Unlock()
	for _, r := range regs {
		cx, cancel := ctx()
		tl, err := admin.TimeToLive(cx, r.lease, clientv3.WithAttachedKeys())
		cancel()
		if check(err == nil, "TimeToLive %x: %v", r.lease, err) {
			check(tl.TTL > 0 && tl.GrantedTTL == *ttl && len(tl.Keys) == 1 && string(tl.Keys[0]) == r.key,
				"TimeToLive %x: ttl %d granted %d keys %q (want >0, %d, [%s])", r.lease, tl.TTL, tl.GrantedTTL, tl.Keys, *ttl, r.key)
		}
	}

	// Deregister: Delete then Revoke (kratos Deregister deletes; the lease goes with the registrant).
	for _, r := range regs {
		cx, cancel := ctx()
		if _, err := r.client.Delete(cx, r.key); err != nil {
			fail("registrant %d: delete %s: %v", r.i, r.key, err)
		}
		if _, err := r.client.Revoke(cx, r.lease); err != nil {
			fail("registrant %d: revoke %x: %v", r.i, r.lease, err)
		}
		cancel()
	}
	if !waitFor(10*time.Second, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.set) == 0 && len(d.deletes) == len(regs)
	}) {
		d.mu.Lock()
		fail("after deregistration the watch still has %v; deletes seen %v", keysOf(d.set), d.deletes)
		d.mu.Unlock()
	}
	for _, r := range regs {
		d.mu.Lock()
		n := d.deletes[r.key]
		d.mu.Unlock()
		check(n == 1, "deregistered %s: %d DELETE events (want 1)", r.key, n)
	}
	if !waitFor(5*time.Second, func() bool {
		for _, r := range regs {
			r.mu.Lock()
			closed := !r.closedAt.IsZero()
			r.mu.Unlock()
			if !closed {
				return false
			}
		}
		return true
	}) {
		fail("keep-alive channels still open 5s after Revoke")
	}
	for _, r := range regs {
		r.cancel()
		r.client.Close()
	}
	stopAll()
	if *layoutsFlag { // after the discoverer stopped: the native instance adds keys under both prefixes
		live := eps[0]
		for _, ep := range eps {
			if _, ok := pids[ep]; ok || len(pids) == 0 {
				live = ep
				break
			}
		}
		checkNativeAtLayouts(admin, live)
	}
	dc.Close()
	admin.Close()
	summary()
}

func equalSets(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string { return keysOf(m) }

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func hexKeys(m map[uint64]int) []string {
	out := []string{}
	for k, n := range m {
		out = append(out, fmt.Sprintf("%x:%d", k, n))
	}
	sort.Strings(out)
	return out
}
