package integration

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// Ports. Every address a test listens on, Caddy's admin endpoint included,
// is picked while the tests run, so that two runs on one machine (two
// clones, CI next to a developer) never meet. A fixed port is unsafe even
// when nothing fails to bind: Caddy sets SO_REUSEPORT on its listeners, so
// a second Caddy binds the same port without error and the kernel then
// shares the connections, admin requests and config loads included,
// between the two processes.
//
// freePort asks the kernel: a listener on port 0 gets a port that no socket
// holds (whatever its options), and is closed for Caddy to take. Between
// that close and Caddy's bind another process could in principle be given
// the same port, but the kernel picks at random across the ephemeral
// range, and a port is never handed out twice in one test binary.
//
// Tests call freePort(t) or freeAddr(t) for what they alone listen on;
// names shared by several tests of a file (a site several tests load) are
// package variables set with portAtStart, once per test binary.

// The in-process Caddy's admin endpoint and its HTTP and HTTPS ports,
// chosen once per test binary. caddytest reads its admin port from
// caddytest.Default when a Tester is made, and starts Caddy there.
var (
	adminPort = portAtStart()
	httpPort  = portAtStart()
	httpsPort = portAtStart()

	// adminAddr is the admin endpoint every config loaded here must keep.
	adminAddr = "localhost:" + adminPort
	adminURL  = "http://" + adminAddr

	// globalOptionLines are the lines of globalOptions, for the Caddyfiles
	// whose global block needs more (a log file, protocols).
	globalOptionLines = "\tadmin " + adminAddr + `
	http_port ` + httpPort + `
	https_port ` + httpsPort + `
	default_bind 127.0.0.1
	skip_install_trust
	grace_period 1ns
`

	// globalOptions is the global block every Caddyfile in this package must
	// start with: this binary's admin address and ports, no trust-store
	// installation, fast reloads, and loopback-only listeners.
	globalOptions = "{\n" + globalOptionLines + "}\n"
)

func init() {
	caddytest.Default.AdminPort = portNumber(adminPort)
}

// portNumber is port as a number, for JSON configs ("http_port").
func portNumber(port string) int {
	n, err := strconv.Atoi(port)
	if err != nil {
		panic(err)
	}
	return n
}

// portsGiven holds every port handed out in this test binary: the kernel
// may well give a closed port again, and two names must never share one.
var portsGiven = struct {
	sync.Mutex
	ports map[string]bool
}{ports: map[string]bool{}}

// pickFreePort returns a loopback port nobody listens on, on 127.0.0.1 nor
// on ::1 (a browser, and Go's resolver, may try either for localhost),
// that this test binary has not handed out before.
func pickFreePort() (string, error) {
	portsGiven.Lock()
	defer portsGiven.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("listening on a free loopback port: %w", err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		free := !portsGiven.ports[port]
		if free {
			// Without IPv6 on loopback this fails otherwise, and ::1 does not matter.
			ln6, err := net.Listen("tcp", "[::1]:"+port)
			if err == nil {
				ln6.Close()
			}
			free = !errors.Is(err, syscall.EADDRINUSE)
		}
		ln.Close()
		if free {
			portsGiven.ports[port] = true
			return port, nil
		}
	}
	return "", errors.New("100 ports from the kernel were all taken on ::1 or given already")
}

// freePort returns a loopback port for t alone: nothing listens on it, and
// no other test of this binary gets it.
func freePort(t testing.TB) string {
	t.Helper()
	port, err := pickFreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// freeAddr returns 127.0.0.1:<freePort(t)>.
func freeAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + freePort(t)
}

// portAtStart is freePort for package variables, set when the test binary
// starts.
func portAtStart() string {
	port, err := pickFreePort()
	if err != nil {
		panic(err)
	}
	return port
}
