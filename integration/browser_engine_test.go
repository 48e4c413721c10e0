package integration

// The browser engines behind the browser tests. Each engine sits behind
// browserEngine, so that a scenario is written once and runs in Chromium,
// Firefox and WebKit alike. An engine starts at most once per test binary
// (Firefox takes seconds to start), in its own process group and with a
// private temporary directory as its home; TestMain stops every engine by
// its group id and removes the directory.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// browserEngine is one running browser with one page.
type browserEngine interface {
	// navigate loads url in the page, waits for its load event, and
	// forgets the console lines seen so far.
	navigate(url string) error
	// evaluate runs the JavaScript expression expr in the page, awaits it
	// when it is a promise, and returns its value as JSON.
	evaluate(expr string) (string, error)
	// console returns the console lines the page got since navigate, or
	// nil when the engine cannot capture them.
	console() []string
	// screenshot returns a PNG of the page.
	screenshot() ([]byte, error)
	// version is the browser's name and version, as its driver reports it.
	version() string
	// stop closes the browser and ends its process group.
	stop()
}

// engineKind describes one engine: how to find it, start it, and read the
// console line in which it blames CORS for a blocked fetch.
type engineKind struct {
	name string
	// install is what a Debian user runs to get the engine.
	install string
	// find returns an error naming what is missing, or nil.
	find func() error
	// start starts the engine with dir as its private directory.
	start func(dir string) (browserEngine, error)
	// blames reports whether a console line blames CORS for blocking url.
	// Nil when the engine's console is not captured.
	blames func(line, url string) bool
}

// engineTimeout bounds every single step of an engine: a start, a
// navigation, one script.
const engineTimeout = 30 * time.Second

var engineKinds = []engineKind{chromiumKind, firefoxKind, webkitKind}

// runningEngines holds each engine started in this test binary.
var runningEngines = struct {
	sync.Mutex
	byName map[string]*runningEngine
}{byName: map[string]*runningEngine{}}

type runningEngine struct {
	engine browserEngine
	dir    string
	err    error
}

// TestMain stops the engines the tests started, once all tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	stopEngines()
	os.Exit(code)
}

// requireInstalled skips t when kind is not installed, or fails it when
// CI=true: browser tests may skip on a developer's machine, never in CI.
func requireInstalled(t *testing.T, kind engineKind) {
	t.Helper()
	if err := kind.find(); err != nil {
		msg := fmt.Sprintf("%s is not installed (Debian: %s): %v", kind.name, kind.install, err)
		if ciStrict() {
			t.Fatal(msg + "; CI=true, so this is a failure")
		}
		t.Skip(msg)
	}
}

// useEngine returns kind's running engine, starting it on first use. It
// skips t when the engine is not installed, or fails it when CI=true.
func useEngine(t *testing.T, kind engineKind) browserEngine {
	t.Helper()
	requireInstalled(t, kind)
	runningEngines.Lock()
	defer runningEngines.Unlock()
	r, ok := runningEngines.byName[kind.name]
	if !ok {
		r = &runningEngine{}
		runningEngines.byName[kind.name] = r
		start := time.Now()
		r.dir, r.err = os.MkdirTemp("", "cors-"+kind.name+"-")
		if r.err == nil {
			r.engine, r.err = kind.start(r.dir)
		}
		if r.err == nil {
			t.Logf("%s started in %s", kind.name, time.Since(start).Round(time.Millisecond))
		}
	}
	if r.err != nil {
		t.Fatalf("starting %s: %v", kind.name, r.err)
	}
	return r.engine
}

// stopEngines stops every engine started and removes its directory.
func stopEngines() {
	runningEngines.Lock()
	defer runningEngines.Unlock()
	for name, r := range runningEngines.byName {
		if r.engine != nil {
			r.engine.stop()
		}
		if r.dir != "" {
			if err := os.RemoveAll(r.dir); err != nil {
				fmt.Fprintf(os.Stderr, "removing %s's directory: %v\n", name, err)
			}
		}
		delete(runningEngines.byName, name)
	}
}

// privateEnv is the environment of an engine's processes: the test's own,
// with every place a browser writes to (home, caches, settings, runtime
// sockets) moved into dir, so that nothing stays behind on disk.
func privateEnv(dir string) []string {
	env := os.Environ()
	for name, sub := range map[string]string{
		"HOME":            "home",
		"XDG_CACHE_HOME":  "cache",
		"XDG_CONFIG_HOME": "config",
		"XDG_DATA_HOME":   "data",
		"XDG_STATE_HOME":  "state",
		"XDG_RUNTIME_DIR": "runtime",
	} {
		path := filepath.Join(dir, sub)
		_ = os.MkdirAll(path, 0o700)
		env = append(env, name+"="+path)
	}
	return env
}

// groupProcess is a process started in its own process group, so that it
// can be stopped together with every child it started.
type groupProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startGroup starts cmd as the leader of a new process group. The kernel
// kills the leader if the test binary dies first (Pdeathsig); it fires when
// the starting OS thread exits, so the goroutine that starts and waits
// stays locked to its thread.
func startGroup(cmd *exec.Cmd) (*groupProcess, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &groupProcess{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop sends SIGTERM to the group (Xvfb removes its socket and lock file on
// it), then SIGKILL to whatever is left, and waits until the group is gone.
func (p *groupProcess) stop() {
	stopGroup(p.cmd.Process.Pid, p.done)
}

// stopGroup ends the process group pgid, whose leader's Wait closes done.
func stopGroup(pgid int, done <-chan struct{}) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-done
	killGroup(pgid)
}

// killGroup sends SIGKILL to the process group pgid until none of its
// processes is left: children outlive their leader for a moment.
func killGroup(pgid int) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	fmt.Fprintf(os.Stderr, "process group %d still has processes after SIGKILL\n", pgid)
}

// tailBuffer keeps the last lines a process wrote, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	// onLine, when set, sees every line as it arrives.
	onLine func(string)
}

func (b *tailBuffer) consume(r io.Reader) {
	buf := make([]byte, 4096)
	var partial string
	for {
		n, err := r.Read(buf)
		partial += string(buf[:n])
		for {
			line, rest, found := strings.Cut(partial, "\n")
			if !found {
				break
			}
			partial = rest
			b.add(line)
		}
		if err != nil {
			if partial != "" {
				b.add(partial)
			}
			return
		}
	}
}

func (b *tailBuffer) add(line string) {
	b.mu.Lock()
	b.lines = append(b.lines, line)
	if len(b.lines) > 40 {
		b.lines = b.lines[len(b.lines)-40:]
	}
	onLine := b.onLine
	b.mu.Unlock()
	if onLine != nil {
		onLine(line)
	}
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// awaitJSON wraps expr so that it evaluates to a promise of its value's
// JSON: each engine then hands back a plain string.
func awaitJSON(expr string) string {
	return "Promise.resolve().then(() => (" + expr + ")).then(v => JSON.stringify(v === undefined ? null : v))"
}
