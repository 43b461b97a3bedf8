package main

// Nested transactions (OpTxn) and range compares (Cmp.WithPrefix / WithRange), which etcdctl 3.4 cannot send:
// checked here through clientv3 against both targets, with etcd 3.4's semantics (apply.go: every compare is
// decided before any operation runs; v3rpc/key.go: a key put twice across nested levels is a duplicate).

import (
	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

func nestedTxn(c *clientv3.Client) {
	logf("nested txn and range compares")
	cx, cancel := ctx()
	defer cancel()
	for _, k := range []string{"/nested/a", "/nested/b"} {
		if _, err := c.Put(cx, k, "1"); err != nil {
			fatal("nested put %s: %v", k, err)
		}
	}
	allOne := clientv3.Compare(clientv3.Value("/nested/"), "=", "1").WithPrefix()
	inner := clientv3.OpTxn([]clientv3.Cmp{allOne},
		[]clientv3.Op{clientv3.OpPut("/nested/then", "x"), clientv3.OpGet("/nested/c")},
		[]clientv3.Op{clientv3.OpPut("/nested/else", "x")})
	t, err := c.Txn(cx).If(allOne).Then(clientv3.OpPut("/nested/c", "2"), inner).Commit()
	if check(err == nil, "nested txn: %v", err) && check(t.Succeeded && len(t.Responses) == 2, "nested txn: succeeded %v, %d responses", t.Succeeded, len(t.Responses)) {
		nested := t.Responses[1].GetResponseTxn()
		// The nested compare was decided before the outer put of /nested/c = 2, so it still held.
		if check(nested != nil && nested.Succeeded && len(nested.Responses) == 2, "nested txn answer: %v", nested) {
			kvs := nested.Responses[1].GetResponseRange().Kvs
			check(len(kvs) == 1 && string(kvs[0].Value) == "2", "a get in a nested txn must see the outer put: %v", kvs)
		}
	}
	// Every txn below has an operation: etcd 3.4 serves a txn without any from the member's own state
	// (isTxnSerializable holds for no operations), which may not have applied the txn above yet.
	t, err = c.Txn(cx).If(allOne).Then(clientv3.OpGet("/nested/a")).Commit()
	if check(err == nil, "range compare: %v", err) {
		check(!t.Succeeded, "value(/nested/ prefix) = 1 held although /nested/c is 2")
	}
	t, err = c.Txn(cx).If(clientv3.Compare(clientv3.Version("/nested/x"), "=", 0).WithRange("/nested/y")).
		Then(clientv3.OpGet("/nested/a")).Commit()
	if check(err == nil, "range compare over no keys: %v", err) {
		check(t.Succeeded, "version = 0 over an empty range must hold")
	}
	_, err = c.Txn(cx).Then(clientv3.OpPut("/nested/d", "1"),
		clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("/nested/d", "2")}, nil)).Commit()
	check(err == rpctypes.ErrDuplicateKey, "a key put outside and inside a nested txn: want %v, got %v", rpctypes.ErrDuplicateKey, err)
	if _, err = c.Delete(cx, "/nested/", clientv3.WithPrefix()); err != nil {
		fail("delete /nested/: %v", err)
	}
}
