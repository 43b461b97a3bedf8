// Roster's framework layouts, checked with -layouts (Roster only: a real etcd has no native API): what the kratos
// and kitex registrants put through clientv3 must be typed instances in `GET /v1/services/<svc>` (namespace
// default) with the right endpoints, metadata, version, weight and lease; and an instance registered natively
// (`PUT /v1/services/...`) must be read back by clientv3 under /microservices/ as kratos JSON and under
// kitex/registry-etcd/ as kitex JSON, at the revision of the native write, and leave both views when kratos
// deregisters it (a clientv3 Delete of its key).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"go.etcd.io/etcd/clientv3"
)

var httpClient = &http.Client{Timeout: 5 * time.Second}

// nativeInstance is an instance as Roster's HTTP API shows it.
type nativeInstance struct {
	Namespace string            `json:"namespace"`
	Service   string            `json:"service"`
	ID        string            `json:"id"`
	Version   string            `json:"version"`
	Endpoints []string          `json:"endpoints"`
	Metadata  map[string]string `json:"metadata"`
	Weight    uint32            `json:"weight"`
	Lease     *int64            `json:"lease"`
}

// kratosInstance is go-kratos' registry.ServiceInstance as its etcd registry marshals it.
type kratosInstance struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Version   string            `json:"version"`
	Metadata  map[string]string `json:"metadata"`
	Endpoints []string          `json:"endpoints"`
}

// kitexInstance is kitex registry-etcd's instanceInfo.
type kitexInstance struct {
	Network string            `json:"network"`
	Address string            `json:"address"`
	Weight  int               `json:"weight"`
	Tags    map[string]string `json:"tags"`
}

func native(method, ep, path string, body []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequest(method, "http://"+ep+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header, err
}

func nativeService(ep, svc string) ([]nativeInstance, error) {
	status, body, _, err := native("GET", ep, "/v1/services/"+svc, nil)
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("GET /v1/services/%s: %d %s", svc, status, body)
	}
	var list struct {
		Instances []nativeInstance `json:"instances"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("GET /v1/services/%s: %v in %s", svc, err, body)
	}
	return list.Instances, nil
}

// checkLayoutRegistrations: every registrant's put is a typed instance, on every member.
func checkLayoutRegistrations(eps []string, regs []*registrant) {
	for _, ep := range eps {
		found := map[string]nativeInstance{}
		for _, svc := range []string{"svc0", "svc1"} {
			list, err := nativeService(ep, svc)
			if !check(err == nil, "layouts: %s: %v", ep, err) {
				return
			}
			for _, in := range list {
				found[in.Service+"/"+in.ID] = in
			}
		}
		check(len(found) == len(regs), "layouts: %s lists %d instances in svc0 and svc1, want %d (one per registrant)", ep, len(found), len(regs))
		for _, r := range regs {
			svc := fmt.Sprintf("svc%d", r.i%2)
			var want nativeInstance
			if r.i%2 == 0 {
				id := fmt.Sprintf("instance-%d", r.i)
				want = nativeInstance{Namespace: "default", Service: svc, ID: id, Version: "v1.0.0",
					Endpoints: []string{fmt.Sprintf("grpc://10.0.0.%d:9000", r.i)}, Metadata: map[string]string{"zone": "a"}, Weight: 100}
			} else {
				addr := fmt.Sprintf("10.0.1.%d:8888", r.i)
				want = nativeInstance{Namespace: "default", Service: svc, ID: addr, Version: "",
					Endpoints: []string{"tcp://" + addr}, Metadata: map[string]string{}, Weight: 10}
			}
			lease := int64(r.lease)
			want.Lease = &lease
			got, ok := found[svc+"/"+want.ID]
			if check(ok, "layouts: %s: %s (put at %s) is not an instance of %s", ep, want.ID, r.key, svc) {
				if got.Metadata == nil {
					got.Metadata = map[string]string{}
				}
				check(reflect.DeepEqual(got, want), "layouts: %s: instance of %s is %+v (lease %v), want %+v (lease %d)", ep, r.key, got, deref(got.Lease), want, lease)
			}
		}
	}
	logf("layouts: every registrant's put is a typed instance with its endpoints, metadata and lease on %d members", len(eps))
}

func deref(p *int64) interface{} {
	if p == nil {
		return nil
	}
	return *p
}

// checkNativeAtLayouts: a native registration read back through clientv3 as kratos and kitex JSON, then kratos'
// Deregister (Delete of its key) removes it from both APIs.
func checkNativeAtLayouts(c *clientv3.Client, ep string) {
	body := []byte(`{"endpoints":["grpc://10.0.2.1:9000","http://10.0.2.1:8000"],"version":"v9","metadata":{"zone":"n","team":"x"},"weight":7}`)
	status, answer, header, err := native("PUT", ep, "/v1/services/layout-native/instances/n1", body)
	if !check(err == nil && status/100 == 2, "layouts: native PUT on %s: %d %s %v", ep, status, answer, err) {
		return
	}
	revision, _ := strconv.ParseInt(header.Get("X-Roster-Revision"), 10, 64)
	cx, cancel := ctx()
	defer cancel()
	kr, err := c.Get(cx, "/microservices/layout-native/", clientv3.WithPrefix())
	if check(err == nil && len(kr.Kvs) == 1, "layouts: clientv3 Get /microservices/layout-native/: %v, %d keys", err, lenKvs(kr)) {
		kv := kr.Kvs[0]
		var k kratosInstance
		check(json.Unmarshal(kv.Value, &k) == nil, "layouts: %s is not kratos JSON: %s", kv.Key, kv.Value)
		want := kratosInstance{ID: "n1", Name: "layout-native", Version: "v9", Metadata: map[string]string{"zone": "n", "team": "x"},
			Endpoints: []string{"grpc://10.0.2.1:9000", "http://10.0.2.1:8000"}}
		check(string(kv.Key) == "/microservices/layout-native/n1" && reflect.DeepEqual(k, want),
			"layouts: kratos view %s = %s, want %+v", kv.Key, kv.Value, want)
		check(kv.ModRevision == revision, "layouts: kratos key at revision %d, native write at %d", kv.ModRevision, revision)
	}
	xr, err := c.Get(cx, "kitex/registry-etcd/layout-native/", clientv3.WithPrefix())
	if check(err == nil && len(xr.Kvs) == 1, "layouts: clientv3 Get kitex/registry-etcd/layout-native/: %v, %d keys", err, lenKvs(xr)) {
		kv := xr.Kvs[0]
		var k kitexInstance
		check(json.Unmarshal(kv.Value, &k) == nil, "layouts: %s is not kitex JSON: %s", kv.Key, kv.Value)
		want := kitexInstance{Network: "tcp", Address: "10.0.2.1:9000", Weight: 7, Tags: map[string]string{"zone": "n", "team": "x"}}
		check(string(kv.Key) == "kitex/registry-etcd/layout-native/10.0.2.1:9000" && reflect.DeepEqual(k, want),
			"layouts: kitex view %s = %s, want %+v", kv.Key, kv.Value, want)
		check(kv.ModRevision == revision, "layouts: kitex key at revision %d, native write at %d", kv.ModRevision, revision)
	}
	dr, err := c.Delete(cx, "/microservices/layout-native/n1")
	if check(err == nil && dr.Deleted == 1, "layouts: clientv3 Delete of the kratos key: %v", err) {
		status, answer, _, err = native("GET", ep, "/v1/services/layout-native/instances/n1", nil)
		check(err == nil && status == 404, "layouts: after kratos' Delete the native instance answers %d %s %v, want 404", status, answer, err)
		xr, err = c.Get(cx, "kitex/registry-etcd/layout-native/", clientv3.WithPrefix())
		check(err == nil && len(xr.Kvs) == 0, "layouts: after kratos' Delete the kitex key is still there (%v, %d keys)", err, lenKvs(xr))
	}
	logf("layouts: a native instance reads back through clientv3 as kratos and kitex JSON at its revision; kratos' Delete removes both views")
}

func lenKvs(r *clientv3.GetResponse) int {
	if r == nil {
		return -1
	}
	return len(r.Kvs)
}
