package main

// Auth through clientv3's Username/Password (issue 16): the admin client sets up a root user and an `app` user
// with readwrite on the /authv3/ prefix and enables auth; a clientv3 client logging in as `app` may put, get and
// watch inside the prefix and is refused (ErrPermissionDenied) outside it, its watch outside the prefix is
// cancelled; after root revokes the permission (an auth revision bump that makes app's token stale) app's next
// put is refused, which needs clientv3 to log in again by itself first; then root disables auth. Users may
// already exist (the etcdctl part leaves root behind), so "already exists" answers are accepted.

import (
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

func authClient(endpoints []string, user, password string) *clientv3.Client {
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second,
		Username: user, Password: password})
	if err != nil {
		fatal("clientv3.New as %s: %v", user, err)
	}
	return c
}

func authCheck(admin *clientv3.Client, endpoints []string) {
	logf("auth: users, roles, permissions and tokens through clientv3 Username/Password")
	cx, cancel := ctx()
	defer cancel()
	tolerate := func(err error, what string, allowed error) {
		if err != nil && err != allowed {
			fatal("auth setup %s: %v", what, err)
		}
	}
	_, err := admin.UserAdd(cx, "root", "rootpw")
	tolerate(err, "user add root", rpctypes.ErrUserAlreadyExist)
	if err == rpctypes.ErrUserAlreadyExist {
		_, err = admin.UserChangePassword(cx, "root", "rootpw")
		tolerate(err, "root password", nil)
	}
	_, err = admin.UserGrantRole(cx, "root", "root")
	tolerate(err, "grant root", nil)
	_, err = admin.RoleAdd(cx, "app")
	tolerate(err, "role add app", rpctypes.ErrRoleAlreadyExist)
	_, err = admin.RoleGrantPermission(cx, "app", "/authv3/", clientv3.GetPrefixRangeEnd("/authv3/"), clientv3.PermissionType(clientv3.PermReadWrite))
	tolerate(err, "grant permission", nil)
	_, err = admin.UserAdd(cx, "app", "apppw")
	tolerate(err, "user add app", rpctypes.ErrUserAlreadyExist)
	_, err = admin.UserGrantRole(cx, "app", "app")
	tolerate(err, "grant app", nil)
	_, err = admin.Put(cx, "/authsecret", "s")
	tolerate(err, "put /authsecret", nil)
	_, err = admin.AuthEnable(cx)
	tolerate(err, "auth enable", nil)

	root := authClient(endpoints, "root", "rootpw")
	defer root.Close()
	defer func() {
		cx, cancel := ctx()
		defer cancel()
		if _, err := root.AuthDisable(cx); err != nil {
			fail("auth disable as root: %v", err)
		}
	}()
	app := authClient(endpoints, "app", "apppw")
	defer app.Close()

	_, err = admin.Get(cx, "/authv3/a")
	check(err == rpctypes.ErrUserEmpty, "a client without a user once auth is on: want %v, got %v", rpctypes.ErrUserEmpty, err)
	_, err = app.Put(cx, "/authv3/a", "1")
	check(err == nil, "app put inside its prefix: %v", err)
	resp, err := app.Get(cx, "/authv3/", clientv3.WithPrefix())
	check(err == nil && len(resp.Kvs) == 1, "app get inside its prefix: %v %v", resp, err)
	_, err = app.Put(cx, "/authsecret", "x")
	check(err == rpctypes.ErrPermissionDenied, "app put outside its prefix: want %v, got %v", rpctypes.ErrPermissionDenied, err)
	_, err = app.Get(cx, "/authsecret")
	check(err == rpctypes.ErrPermissionDenied, "app get outside its prefix: want %v, got %v", rpctypes.ErrPermissionDenied, err)
	_, err = app.Txn(cx).Then(clientv3.OpPut("/authv3/b", "1")).Else(clientv3.OpDelete("/authsecret")).Commit()
	check(err == rpctypes.ErrPermissionDenied, "a txn whose other branch leaves the prefix: want %v, got %v", rpctypes.ErrPermissionDenied, err)
	_, err = clientv3.NewAuth(app).UserList(cx)
	check(err == rpctypes.ErrPermissionDenied, "user list as app: want %v, got %v", rpctypes.ErrPermissionDenied, err)

	watchCx, stopWatch := ctx()
	denied := app.Watch(watchCx, "/authsecret")
	select {
	case wr, ok := <-denied:
		check(!ok || wr.Canceled || wr.Err() != nil, "a watch outside the prefix must be cancelled: %+v", wr)
	case <-time.After(*timeout):
		fail("a watch outside the prefix was neither cancelled nor answered within %v", *timeout)
	}
	stopWatch()

	_, err = root.RoleRevokePermission(cx, "app", "/authv3/", clientv3.GetPrefixRangeEnd("/authv3/"))
	check(err == nil, "revoke permission as root: %v", err)
	refused := waitFor(5*time.Second, func() bool {
		cx, cancel := ctx()
		defer cancel()
		_, err := app.Put(cx, "/authv3/c", "1")
		return err == rpctypes.ErrPermissionDenied
	})
	check(refused, "app's put after its permission was revoked must be refused (clientv3 logs in again after the auth revision bump)")
}
