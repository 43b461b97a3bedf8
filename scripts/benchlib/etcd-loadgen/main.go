// etcd-loadgen drives a 3-node etcd 3.4 with the same modes, flags and JSON output as roster-bench
// (Sources/roster-bench/main.swift), through etcd's own Go client (clientv3). scripts/bench builds it at
// run time, offline, from Debian's golang-go and golang-etcd-server-dev (GO111MODULE=off, GOPATH=/usr/share/gocode).
//
// Keys mirror Roster's layout: /roster/<service>/<id>; a service listing is a prefix range.
// Each client is its own clientv3.Client (its own connection) on endpoint i mod count, as in roster-bench.
// With --cacert (and --cert --key for a client certificate) every connection is TLS: clientv3 picks its
// transport by the endpoint's scheme, so endpoints given as host:port are dialled as https://host:port.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"golang.org/x/sys/unix"
)

var (
	mode          = flag.String("mode", "put", "put|register-ttl|get|populate|watch|failover|expiry")
	endpointsFlag = flag.String("endpoints", "127.0.0.1:2379", "comma-separated host:port")
	clients       = flag.Int("clients", 16, "concurrent clients")
	duration      = flag.Float64("duration", 5, "seconds")
	service       = flag.String("service", "bench", "service name")
	keySpace      = flag.Int("key-space", 1000, "distinct ids per client in put mode")
	valueSize     = flag.Int("value-size", 200, "bytes per instance record")
	target        = flag.String("target", "instance", "instance|service (get mode)")
	consistency   = flag.String("consistency", "linearizable", "linearizable|serializable")
	count         = flag.Int("count", 1000, "instances (populate)")
	leaseEvery    = flag.Int("lease-every", 1, "instances per lease (populate)")
	ttlSeconds    = flag.Int64("ttl", 60, "lease TTL seconds")
	watchEndpoint = flag.String("watch-endpoint", "", "node the watchers use")
	writeEndpoint = flag.String("write-endpoint", "", "node the writer uses")
	watchers      = flag.Int("watchers", 1, "watchers (watch mode)")
	rate          = flag.Float64("rate", 20, "writes per second (watch mode)")
	leases        = flag.Int("leases", 5, "leases (expiry mode)")
	services      = flag.Int("services", 1, "spread populate over this many services")
	timeoutMs     = flag.Int("timeout-ms", 5000, "per-request timeout")
	markNs        = flag.Int64("mark-ns", 0, "failover: report the first success of a write begun at or after this monotonic time")
	caFile        = flag.String("cacert", "", "TLS: verify servers against this CA (PEM); turns TLS on")
	certFile      = flag.String("cert", "", "TLS: client certificate (PEM), with --key")
	keyFile       = flag.String("key", "", "TLS: client certificate's key (PEM), with --cert")
)

// clientTLS is nil for plaintext, else the one configuration every client shares (built once in main).
var clientTLS *tls.Config

func loadClientTLS() *tls.Config {
	if *caFile == "" {
		if *certFile != "" || *keyFile != "" {
			fail("--cert and --key need --cacert")
		}
		return nil
	}
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fail("--cacert: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fail("--cacert %s holds no PEM certificate", *caFile)
	}
	config := &tls.Config{RootCAs: roots}
	if *certFile != "" || *keyFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fail("--cert/--key: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config
}

// withScheme gives a bare host:port the scheme that matches the transport; clientv3 would dial it in
// plaintext otherwise, whatever its TLS configuration says.
func withScheme(endpoints []string) []string {
	scheme := "http://"
	if clientTLS != nil {
		scheme = "https://"
	}
	out := make([]string, len(endpoints))
	for i, endpoint := range endpoints {
		if strings.Contains(endpoint, "://") {
			out[i] = endpoint
		} else {
			out[i] = scheme + endpoint
		}
	}
	return out
}

func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Sec*1e9 + ts.Nsec
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "etcd-loadgen: "+format+"\n", args...)
	os.Exit(2)
}

func newClient(endpoints []string) *clientv3.Client {
	client, err := clientv3.New(clientv3.Config{Endpoints: withScheme(endpoints), DialTimeout: 5 * time.Second, TLS: clientTLS})
	if err != nil {
		fail("connect %v: %v", endpoints, err)
	}
	return client
}

func key(service, id string) string { return "/roster/" + service + "/" + id }

// The same ~valueSize-byte instance record roster-bench sends.
func instanceValue(size int, lease int64) string {
	head := `{"endpoints":["http://10.20.30.40:8080","grpc://10.20.30.40:9090"],"metadata":{"zone":"zone-a","version":"1.4.2","pad":"`
	tail := `"}}`
	if lease != 0 {
		tail = fmt.Sprintf(`"},"lease":%d}`, lease)
	}
	pad := size - len(head) - len(tail)
	if pad < 0 {
		pad = 0
	}
	return head + strings.Repeat("x", pad) + tail
}

type worker struct {
	latencies   []uint32
	ops, errors int
	lastError   string
	completions []int64
	recoveredAt int64
}

func (w *worker) fail(err error) { w.errors++; w.lastError = err.Error() }

func percentile(sorted []uint32, fraction float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	index := int(float64(len(sorted)) * fraction)
	if index >= len(sorted) {
		index = len(sorted) - 1
	}
	return float64(sorted[index]) / 1000
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

func summarize(workers []*worker, seconds float64) map[string]interface{} {
	var all []uint32
	ops, errors, last := 0, 0, ""
	for _, w := range workers {
		all = append(all, w.latencies...)
		ops += w.ops
		errors += w.errors
		if w.lastError != "" {
			last = w.lastError
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	out := map[string]interface{}{
		"ops": ops, "errors": errors, "seconds": round3(seconds), "ops_per_sec": round3(float64(ops) / seconds),
		"p50_ms": percentile(all, 0.5), "p99_ms": percentile(all, 0.99), "max_ms": 0.0, "mean_ms": 0.0,
	}
	if len(all) > 0 {
		out["max_ms"] = float64(all[len(all)-1]) / 1000
		var sum uint64
		for _, micros := range all {
			sum += uint64(micros)
		}
		out["mean_ms"] = round3(float64(sum) / float64(len(all)) / 1000)
	}
	if last != "" {
		out["last_error"] = last
	}
	return out
}

func micros(since int64) uint32 { return uint32((monotonic() - since) / 1000) }

func timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Duration(*timeoutMs)*time.Millisecond)
}

func grant(client *clientv3.Client, ttl int64) (clientv3.LeaseID, error) {
	ctx, cancel := timeout()
	defer cancel()
	response, err := client.Grant(ctx, ttl)
	if err != nil {
		return 0, err
	}
	return response.ID, nil
}

func runParallel(n int, body func(i int, w *worker)) []*worker {
	workers := make([]*worker, n)
	var group sync.WaitGroup
	for i := 0; i < n; i++ {
		workers[i] = &worker{}
		group.Add(1)
		go func(i int) {
			defer group.Done()
			body(i, workers[i])
		}(i)
	}
	group.Wait()
	return workers
}

// putEndpoints lists the members put worker i writes through, one request each in turn. With at least as
// many clients as members, each client keeps to one and the clients spread over the members; with fewer, each
// client turns through all of them from its own starting member, so a run "via all nodes" never depends on
// which member happens to be listed first (at 1 client: on whether that one is the leader). roster-bench does
// the same.
func putEndpoints(i int, endpoints []string) []string {
	first := i % len(endpoints)
	if *clients >= len(endpoints) {
		return []string{endpoints[first]}
	}
	return append(append([]string{}, endpoints[first:]...), endpoints[:first]...)
}

// registerLoop runs op back to back until the deadline, recording each success's latency and pausing 10 ms after a
// failure.
func registerLoop(w *worker, deadline int64, op func(sequence int) error) {
	for sequence := 0; ; sequence++ {
		before := monotonic()
		if before >= deadline {
			return
		}
		if err := op(sequence); err != nil {
			w.fail(err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		w.ops++
		w.latencies = append(w.latencies, micros(before))
	}
}

// connectMembers opens a client on each member put worker i cycles through (putEndpoints).
func connectMembers(i int, endpoints []string) []*clientv3.Client {
	var members []*clientv3.Client
	for _, endpoint := range putEndpoints(i, endpoints) {
		members = append(members, newClient([]string{endpoint}))
	}
	return members
}

func closeAll(members []*clientv3.Client) {
	for _, member := range members {
		member.Close()
	}
}

func runPut(endpoints []string) map[string]interface{} {
	start := monotonic()
	deadline := start + int64(*duration*1e9)
	workers := runParallel(*clients, func(i int, w *worker) {
		members := connectMembers(i, endpoints)
		defer closeAll(members)
		client := members[0]
		lease, err := grant(client, *ttlSeconds)
		if err != nil {
			w.fail(err)
			return
		}
		value := instanceValue(*valueSize, int64(lease))
		service := fmt.Sprintf("%s-c%d", *service, i)
		registerLoop(w, deadline, func(sequence int) error {
			ctx, cancel := timeout()
			defer cancel()
			member := members[sequence%len(members)]
			_, err := member.Put(ctx, key(service, fmt.Sprintf("i%d", sequence%*keySpace)), value, clientv3.WithLease(lease))
			return err
		})
		ctx, cancel := timeout()
		client.Revoke(ctx, lease)
		cancel()
	})
	return summarize(workers, float64(monotonic()-start)/1e9)
}

// runRegisterTTL registers as the etcd registries of go-kratos and kitex do: each registration grants a lease of its
// own, then puts the instance's key under it (two requests to the same member; Roster's HTTP API takes one, a PUT
// with "ttl").
func runRegisterTTL(endpoints []string) map[string]interface{} {
	start := monotonic()
	deadline := start + int64(*duration*1e9)
	workers := runParallel(*clients, func(i int, w *worker) {
		members := connectMembers(i, endpoints)
		defer closeAll(members)
		service := fmt.Sprintf("%s-c%d", *service, i)
		registerLoop(w, deadline, func(sequence int) error {
			member := members[sequence%len(members)]
			lease, err := grant(member, *ttlSeconds)
			if err != nil {
				return err
			}
			ctx, cancel := timeout()
			defer cancel()
			_, err = member.Put(ctx, key(service, fmt.Sprintf("i%d", sequence%*keySpace)),
				instanceValue(*valueSize, int64(lease)), clientv3.WithLease(lease))
			return err
		})
	})
	return summarize(workers, float64(monotonic()-start)/1e9)
}

func runGet(endpoints []string) map[string]interface{} {
	k := key(*service, "i0")
	var opts []clientv3.OpOption
	if *target == "service" {
		k = key(*service, "")
		opts = append(opts, clientv3.WithPrefix())
	}
	if *consistency == "serializable" {
		opts = append(opts, clientv3.WithSerializable())
	}
	start := monotonic()
	deadline := start + int64(*duration*1e9)
	var responseBytes int
	workers := runParallel(*clients, func(i int, w *worker) {
		client := newClient([]string{endpoints[i%len(endpoints)]})
		defer client.Close()
		for monotonic() < deadline {
			before := monotonic()
			ctx, cancel := timeout()
			response, err := client.Get(ctx, k, opts...)
			cancel()
			if err != nil {
				w.fail(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if len(response.Kvs) == 0 {
				w.fail(fmt.Errorf("no keys at %s", k))
				continue
			}
			w.ops++
			w.latencies = append(w.latencies, micros(before))
			if i == 0 {
				size := 0
				for _, kv := range response.Kvs {
					size += len(kv.Key) + len(kv.Value)
				}
				responseBytes = size
			}
		}
	})
	out := summarize(workers, float64(monotonic()-start)/1e9)
	out["response_bytes"] = responseBytes
	return out
}

func runPopulate(endpoints []string) map[string]interface{} {
	start := monotonic()
	workers := runParallel(*clients, func(i int, w *worker) {
		client := newClient([]string{endpoints[i%len(endpoints)]})
		defer client.Close()
		var lease clientv3.LeaseID
		value := ""
		done := 0
		for item, attempts := i, 0; item < *count && attempts < *count*3; attempts++ {
			if value == "" {
				id, err := grant(client, *ttlSeconds)
				if err != nil {
					w.fail(err)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				lease = id
				value = instanceValue(*valueSize, int64(lease))
			}
			svc := *service
			if *services > 1 {
				svc = fmt.Sprintf("%s-%d", *service, item%*services)
			}
			ctx, cancel := timeout()
			_, err := client.Put(ctx, key(svc, fmt.Sprintf("i%d", item)), value, clientv3.WithLease(lease))
			cancel()
			if err != nil {
				w.fail(err)
				time.Sleep(20 * time.Millisecond)
				continue
			}
			w.ops++
			item += *clients
			done++
			if done%*leaseEvery == 0 {
				value = ""
			}
		}
	})
	return summarize(workers, float64(monotonic()-start)/1e9)
}

type event struct {
	revision int64
	delete   bool
	id       string
	at       int64
}

func runWatch() map[string]interface{} {
	prefix := key(*service, "")
	perClient := 100
	var watchClients []*clientv3.Client
	channels := make([]clientv3.WatchChan, *watchers)
	ctx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	for i := 0; i < *watchers; i++ {
		if i%perClient == 0 {
			watchClients = append(watchClients, newClient([]string{*watchEndpoint}))
		}
		channels[i] = watchClients[len(watchClients)-1].Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	}
	for i, channel := range channels {
		select {
		case <-channel:
		case <-time.After(10 * time.Second):
			fail("watcher %d not created", i)
		}
	}
	seen := make([][]event, *watchers)
	var acks sync.Map
	var lastAck int64
	var ackLock sync.Mutex
	writesDone := make(chan struct{})
	var group sync.WaitGroup
	for i := range channels {
		group.Add(1)
		go func(i int) {
			defer group.Done()
			timer := time.NewTimer(time.Duration(*duration*1e9) + 3*time.Second)
			for {
				select {
				case response, ok := <-channels[i]:
					if !ok {
						return
					}
					now := monotonic()
					for _, e := range response.Events {
						seen[i] = append(seen[i], event{revision: e.Kv.ModRevision, at: now})
					}
					select {
					case <-writesDone:
						ackLock.Lock()
						last := lastAck
						ackLock.Unlock()
						if n := len(seen[i]); n > 0 && seen[i][n-1].revision >= last {
							return
						}
					default:
					}
				case <-timer.C:
					return
				}
			}
		}(i)
	}
	writer := newClient([]string{*writeEndpoint})
	value := instanceValue(*valueSize, 0)
	w := &worker{}
	interval := int64(1e9 / *rate)
	deadline := monotonic() + int64(*duration*1e9)
	for next, sequence := monotonic(), 0; next < deadline; sequence++ {
		if wait := next - monotonic(); wait > 0 {
			time.Sleep(time.Duration(wait))
		}
		next += interval
		c, cancel := timeout()
		response, err := writer.Put(c, key(*service, fmt.Sprintf("w%d", sequence%10)), value)
		cancel()
		now := monotonic()
		if err != nil {
			w.fail(err)
			continue
		}
		acks.Store(response.Header.Revision, now)
		ackLock.Lock()
		lastAck = response.Header.Revision
		ackLock.Unlock()
		w.ops++
	}
	close(writesDone)
	group.Wait()
	var latencies []uint32
	missing := 0
	for i := range seen {
		found := 0
		for _, e := range seen[i] {
			if value, ok := acks.Load(e.revision); ok {
				found++
				delta := e.at - value.(int64)
				if delta < 0 {
					delta = 0
				}
				latencies = append(latencies, uint32(delta/1000))
			}
		}
		missing += w.ops - found
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	out := map[string]interface{}{
		"writes": w.ops, "write_errors": w.errors, "watchers": *watchers, "events": len(latencies),
		"missing_events": missing, "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99), "max_ms": 0.0,
	}
	if len(latencies) > 0 {
		out["max_ms"] = float64(latencies[len(latencies)-1]) / 1000
	}
	if w.lastError != "" {
		out["last_error"] = w.lastError
	}
	return out
}

func runFailover(endpoints []string) map[string]interface{} {
	start := monotonic()
	deadline := start + int64(*duration*1e9)
	workers := runParallel(*clients, func(i int, w *worker) {
		// Every node, starting from this client's own, so the balancer can move on when one dies.
		rotated := append(append([]string{}, endpoints[i%len(endpoints):]...), endpoints[:i%len(endpoints)]...)
		client := newClient(rotated)
		defer client.Close()
		var lease clientv3.LeaseID
		svc := fmt.Sprintf("%s-c%d", *service, i)
		for sequence := 0; monotonic() < deadline; {
			if lease == 0 {
				id, err := grant(client, *ttlSeconds)
				if err != nil {
					w.fail(err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				lease = id
			}
			began := monotonic()
			ctx, cancel := timeout()
			_, err := client.Put(ctx, key(svc, fmt.Sprintf("i%d", sequence%100)), instanceValue(*valueSize, int64(lease)), clientv3.WithLease(lease))
			cancel()
			if err != nil {
				w.fail(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			w.ops++
			now := monotonic()
			w.completions = append(w.completions, now)
			if *markNs > 0 && began >= *markNs && (w.recoveredAt == 0 || now < w.recoveredAt) {
				w.recoveredAt = now
			}
			sequence++
		}
	})
	var completions []int64
	for _, w := range workers {
		completions = append(completions, w.completions...)
	}
	sort.Slice(completions, func(i, j int) bool { return completions[i] < completions[j] })
	gaps := [][2]int64{}
	for i := 1; i < len(completions); i++ {
		if completions[i]-completions[i-1] > 10_000_000 {
			gaps = append(gaps, [2]int64{completions[i-1], completions[i]})
		}
	}
	out := summarize(workers, float64(monotonic()-start)/1e9)
	out["gaps_ns"] = gaps
	recovered := int64(0)
	for _, w := range workers {
		if w.recoveredAt > 0 && (recovered == 0 || w.recoveredAt < recovered) {
			recovered = w.recoveredAt
		}
	}
	out["recovered_ns"] = recovered
	if len(completions) > 0 {
		out["first_ns"] = completions[0]
		out["last_ns"] = completions[len(completions)-1]
	}
	return out
}

func runExpiry() map[string]interface{} {
	watcher := newClient([]string{*watchEndpoint})
	defer watcher.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	channel := watcher.Watch(ctx, key(*service, ""), clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	<-channel
	client := newClient([]string{*writeEndpoint})
	defer client.Close()
	ttl := *ttlSeconds * 1e9
	ends := map[string]int64{}
	lastError := ""
	for i := 0; i < *leases; i++ {
		lease, err := grant(client, *ttlSeconds)
		granted := monotonic()
		if err == nil {
			c, cancelPut := timeout()
			_, err = client.Put(c, key(*service, fmt.Sprintf("e%d", i)), instanceValue(*valueSize, int64(lease)), clientv3.WithLease(lease))
			cancelPut()
		}
		if err != nil {
			lastError = err.Error()
		} else {
			ends[key(*service, fmt.Sprintf("e%d", i))] = granted + ttl
		}
		time.Sleep(250 * time.Millisecond)
	}
	var delays []uint32
	timer := time.NewTimer(time.Duration(ttl) + 15*time.Second)
	for len(ends) > 0 {
		select {
		case response := <-channel:
			now := monotonic()
			for _, e := range response.Events {
				if e.Type != clientv3.EventTypeDelete {
					continue
				}
				if end, ok := ends[string(e.Kv.Key)]; ok {
					delete(ends, string(e.Kv.Key))
					delta := now - end
					if delta < 0 {
						delta = 0
					}
					delays = append(delays, uint32(delta/1000))
				}
			}
		case <-timer.C:
			ends = nil
		}
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	out := map[string]interface{}{"leases": *leases, "expired_seen": len(delays), "p50_ms": percentile(delays, 0.5), "max_ms": 0.0, "min_ms": 0.0}
	if len(delays) > 0 {
		out["max_ms"] = float64(delays[len(delays)-1]) / 1000
		out["min_ms"] = float64(delays[0]) / 1000
	}
	if lastError != "" {
		out["last_error"] = lastError
	}
	return out
}

func main() {
	flag.Parse()
	clientTLS = loadClientTLS()
	endpoints := strings.Split(*endpointsFlag, ",")
	if *watchEndpoint == "" {
		*watchEndpoint = endpoints[len(endpoints)-1]
	}
	if *writeEndpoint == "" {
		*writeEndpoint = endpoints[0]
	}
	var out map[string]interface{}
	switch *mode {
	case "put":
		out = runPut(endpoints)
	case "register-ttl":
		out = runRegisterTTL(endpoints)
	case "get":
		out = runGet(endpoints)
	case "populate":
		out = runPopulate(endpoints)
	case "watch":
		out = runWatch()
	case "failover":
		out = runFailover(endpoints)
	case "expiry":
		out = runExpiry()
	default:
		fail("unknown mode %s", *mode)
	}
	text, _ := json.Marshal(out)
	fmt.Println(string(text))
}
