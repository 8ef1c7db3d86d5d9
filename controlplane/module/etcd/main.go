// Command etcd is etcd's own server entry point. go.etcd.io/etcd/server/v3 keeps its main package in a module
// (go.etcd.io/etcd/v3) that cannot be built from the Go module proxy on its own, so this calls etcdmain directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
