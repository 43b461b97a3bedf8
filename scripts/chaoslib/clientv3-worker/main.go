// clientv3-worker carries out the chaos suite's etcd-API calls with etcd's own Go client (clientv3), so the
// suite's history holds operations made by the client the frameworks use (go-kratos, kitex registry-etcd),
// next to python-etcd3's. It makes no decisions: the Python worker (scripts/chaoslib/clientv3workload.py)
// picks the member, the key and the operation, times the call and records it; this program only runs one
// call at a time and says what came back.
//
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout, in order.
//
//	{"op":"ready","endpoint":"10.78.0.1:2379","wait_ms":500}
//	{"op":"put","endpoint":...,"key":"k/1","value":"v"}             (prev_kv asked)
//	{"op":"delete","endpoint":...,"key":"k/1"}
//	{"op":"get","endpoint":...,"key":"k/1","serializable":false}
//	{"op":"list","endpoint":...,"prefix":"k/","serializable":true}  (sorted by key, ascending)
//
// An answer is {"ok":true, "ready":…, "revision":…, "prev_kv":…, "deleted":…, "kvs":[…]} (keys and values
// base64, as encoding/json writes []byte) or {"ok":false,"code":"UNAVAILABLE","details":"…"}: the gRPC status
// code in the spelling of Python's grpc.StatusCode names, which the suite's error classification reads.
//
// One clientv3.Client per endpoint, made on first use and kept: a call goes to exactly the member the
// worker chose, as with python-etcd3's one channel per node. A client that cannot be made (with --user, making
// it logs in, which fails while the member is down) is answered as not ready and made again next time.
//
// Built at run time, offline, from Debian's golang-go and golang-etcd-server-dev (GO111MODULE=off,
// GOPATH=/usr/share/gocode), as scripts/benchlib/etcd-loadgen is.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

var (
	timeoutMs = flag.Int("timeout-ms", 2500, "per-call timeout")
	caFile    = flag.String("cacert", "", "TLS: verify members against this CA (PEM); turns TLS on")
	certFile  = flag.String("cert", "", "TLS: client certificate (PEM), with --key")
	keyFile   = flag.String("key", "", "TLS: client certificate's key (PEM), with --cert")
	user      = flag.String("user", "", "auth: log in as this user (with --password)")
	password  = flag.String("password", "", "auth: the user's password")
)

type request struct {
	Op           string `json:"op"`
	Endpoint     string `json:"endpoint"`
	Key          string `json:"key"`
	Value        string `json:"value"`
	Prefix       string `json:"prefix"`
	Serializable bool   `json:"serializable"`
	WaitMs       int    `json:"wait_ms"`
}

type keyValue struct {
	Key            []byte `json:"key"`
	Value          []byte `json:"value"`
	ModRevision    int64  `json:"mod_revision"`
	CreateRevision int64  `json:"create_revision"`
	Version        int64  `json:"version"`
}

type answer struct {
	OK       bool       `json:"ok"`
	Code     string     `json:"code,omitempty"`
	Details  string     `json:"details,omitempty"`
	Ready    bool       `json:"ready,omitempty"`
	Revision int64      `json:"revision,omitempty"`
	PrevKV   *keyValue  `json:"prev_kv,omitempty"`
	Deleted  int64      `json:"deleted"`
	KVs      []keyValue `json:"kvs,omitempty"`
}

var (
	clientTLS *tls.Config
	clients   = map[string]*clientv3.Client{}
)

func main() {
	flag.Parse()
	clientTLS = loadTLS()
	input := bufio.NewScanner(os.Stdin)
	input.Buffer(make([]byte, 1<<20), 1<<20)
	output := json.NewEncoder(os.Stdout) // os.Stdout is unbuffered: each answer is written as it is encoded
	for input.Scan() {
		var req request
		var out answer
		if err := json.Unmarshal(input.Bytes(), &req); err != nil {
			out = answer{Code: "INVALID_ARGUMENT", Details: "clientv3-worker: bad request line: " + err.Error()}
		} else {
			out = serve(req)
		}
		if err := output.Encode(out); err != nil {
			fmt.Fprintf(os.Stderr, "clientv3-worker: %v\n", err)
			os.Exit(1)
		}
	}
	for _, client := range clients {
		client.Close()
	}
}

func serve(req request) answer {
	client, err := clientFor(req.Endpoint)
	if err != nil {
		if req.Op == "ready" {
			return answer{OK: true, Ready: false, Details: err.Error()}
		}
		return failure(err)
	}
	if req.Op == "ready" {
		return answer{OK: true, Ready: waitReady(client, time.Duration(req.WaitMs)*time.Millisecond)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*timeoutMs)*time.Millisecond)
	defer cancel()
	switch req.Op {
	case "put":
		response, err := client.Put(ctx, req.Key, req.Value, clientv3.WithPrevKV())
		if err != nil {
			return failure(err)
		}
		out := answer{OK: true, Revision: response.Header.Revision}
		if response.PrevKv != nil {
			out.PrevKV = &keyValue{Key: response.PrevKv.Key, Value: response.PrevKv.Value}
		}
		return out
	case "delete":
		response, err := client.Delete(ctx, req.Key)
		if err != nil {
			return failure(err)
		}
		return answer{OK: true, Revision: response.Header.Revision, Deleted: response.Deleted}
	case "get", "list":
		key, options := req.Key, []clientv3.OpOption{}
		if req.Op == "list" {
			key = req.Prefix
			options = append(options, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		}
		if req.Serializable {
			options = append(options, clientv3.WithSerializable())
		}
		response, err := client.Get(ctx, key, options...)
		if err != nil {
			return failure(err)
		}
		out := answer{OK: true, Revision: response.Header.Revision}
		for _, kv := range response.Kvs {
			out.KVs = append(out.KVs, keyValue{Key: kv.Key, Value: kv.Value, ModRevision: kv.ModRevision,
				CreateRevision: kv.CreateRevision, Version: kv.Version})
		}
		return out
	}
	return answer{Code: "INVALID_ARGUMENT", Details: "clientv3-worker: unknown op " + req.Op}
}

// clientFor is the endpoint's client, made on first use. With --user, clientv3.New logs in, so it fails
// while the member is down; the failure is not kept.
func clientFor(endpoint string) (*clientv3.Client, error) {
	if client, ok := clients[endpoint]; ok {
		return client, nil
	}
	scheme := "http://"
	if clientTLS != nil {
		scheme = "https://" // clientv3 picks the transport by the scheme, whatever its TLS configuration says
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints: []string{scheme + endpoint}, DialTimeout: time.Duration(*timeoutMs) * time.Millisecond,
		TLS: clientTLS, Username: *user, Password: *password,
		// Reconnect soon after a member restarts, as the suite's python-etcd3 channels are told to.
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second,
		// Errors only: clientv3 warns on every retry it makes, and faults make many; the answers say what failed.
		LogConfig: &zap.Config{Level: zap.NewAtomicLevelAt(zap.ErrorLevel), Encoding: "json",
			EncoderConfig: zap.NewProductionEncoderConfig(), OutputPaths: []string{"stderr"},
			ErrorOutputPaths: []string{"stderr"}},
	})
	if err != nil {
		return nil, err
	}
	clients[endpoint] = client
	return client, nil
}

// waitReady reports whether the client's connection is READY within wait, so a call is made only on a
// member that can be reached (python-etcd3's worker checks its channel the same way).
func waitReady(client *clientv3.Client, wait time.Duration) bool {
	conn := client.ActiveConnection()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		state := conn.GetState()
		if state == connectivity.Ready {
			return true
		}
		if !conn.WaitForStateChange(ctx, state) {
			return false
		}
	}
}

// failure is the answer for a failed call: the gRPC code as Python's grpc.StatusCode names it.
func failure(err error) answer {
	code := codes.Unknown
	var etcdError rpctypes.EtcdError
	switch {
	case errors.As(err, &etcdError):
		code = etcdError.Code()
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	default:
		if s, ok := status.FromError(err); ok {
			code = s.Code()
		}
	}
	return answer{Code: pythonCodeName(code), Details: err.Error()}
}

// pythonCodeName spells a gRPC code as grpc.StatusCode does: DeadlineExceeded becomes DEADLINE_EXCEEDED.
func pythonCodeName(code codes.Code) string {
	name := code.String()
	if name == "OK" {
		return name
	}
	var out strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			out.WriteByte('_')
		}
		out.WriteRune(unicode.ToUpper(r))
	}
	return out.String()
}

func loadTLS() *tls.Config {
	if *caFile == "" {
		return nil
	}
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fatal("--cacert: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fatal("--cacert %s holds no PEM certificate", *caFile)
	}
	config := &tls.Config{RootCAs: roots}
	if *certFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fatal("--cert/--key: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "clientv3-worker: "+format+"\n", args...)
	os.Exit(2)
}
