package integration

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

// firefoxKind is headless Firefox ESR, driven over WebDriver BiDi straight
// from the test: Firefox's remote agent speaks BiDi on a WebSocket, so no
// geckodriver is needed. It is found at $FIREFOX, or as firefox-esr or
// firefox on $PATH.
var firefoxKind = engineKind{
	name:    "firefox",
	install: "apt-get install -y firefox-esr, or set FIREFOX=/path/to/firefox",
	find: func() error {
		_, err := firefoxPath()
		return err
	},
	start: startFirefox,
	blames: func(line, url string) bool {
		return strings.Contains(line, "Cross-Origin Request Blocked") && strings.Contains(line, url)
	},
}

func firefoxPath() (string, error) {
	if p := os.Getenv("FIREFOX"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no firefox-esr or firefox on $PATH and $FIREFOX unset")
}

// bidiListening is the line Firefox writes on stderr once its remote agent
// listens.
var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// bidiOrigin is the Origin of the test's WebSocket handshake. Firefox
// refuses a handshake with an Origin it was not told to allow, and the
// WebSocket client always sends one.
const bidiOrigin = "http://localhost"

type firefox struct {
	proc    *groupProcess
	stderr  *tailBuffer
	ws      *websocket.Conn
	context string // the browsing context (tab) the tests use

	browserVersion string

	sendMu  sync.Mutex
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan bidiMessage
	lines   []string
	closed  error // set when the connection ended
}

// bidiMessage is any message from the remote end: a command's result or
// error, or an event.
type bidiMessage struct {
	ID      int             `json:"id"`
	Type    string          `json:"type"` // success, error, event
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// startFirefox starts Firefox ESR headless in its own process group, with a
// fresh profile in dir, and opens a BiDi session on its one tab.
func startFirefox(dir string) (browserEngine, error) {
	f, err := startFirefoxWith(dir, nil)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// startFirefoxWith is startFirefox with preferences set in the profile
// (its user.js), for a test that needs a Firefox of its own.
func startFirefoxWith(dir string, prefs map[string]any) (*firefox, error) {
	path, err := firefoxPath()
	if err != nil {
		return nil, err
	}
	profile := filepath.Join(dir, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, err
	}
	var userJS strings.Builder
	for name, value := range prefs {
		v, err := json.Marshal(value)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&userJS, "user_pref(%q, %s);\n", name, v)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(userJS.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--headless", "--no-remote",
		"--remote-debugging-port=0", "--remote-allow-origins="+bidiOrigin,
		"--profile", profile)
	cmd.Env = append(privateEnv(dir), "MOZ_CRASHREPORTER_DISABLE=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	f := &firefox{stderr: &tailBuffer{}, waiting: map[int]chan bidiMessage{}}
	listening := make(chan string, 1)
	f.stderr.onLine = func(line string) {
		if m := bidiListening.FindStringSubmatch(line); m != nil {
			select {
			case listening <- m[1]:
			default:
			}
		}
	}
	if f.proc, err = startGroup(cmd); err != nil {
		return nil, err
	}
	go f.stderr.consume(stderr)
	var wsURL string
	select {
	case wsURL = <-listening:
	case <-f.proc.done:
		return nil, fmt.Errorf("firefox exited before listening; it wrote:\n%s", f.stderr)
	case <-time.After(engineTimeout):
		f.proc.stop()
		return nil, fmt.Errorf("firefox did not print %q within %s; it wrote:\n%s", "WebDriver BiDi listening", engineTimeout, f.stderr)
	}
	if err := f.connect(wsURL + "/session"); err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

// connect opens the WebSocket and the BiDi session, finds the tab and
// subscribes to its console.
func (f *firefox) connect(url string) error {
	config, err := websocket.NewConfig(url, bidiOrigin)
	if err != nil {
		return err
	}
	if f.ws, err = websocket.DialConfig(config); err != nil {
		return fmt.Errorf("connecting to %s: %w", url, err)
	}
	go f.read()
	session, err := f.call("session.new", map[string]any{"capabilities": map[string]any{}})
	if err != nil {
		return err
	}
	var created struct {
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(session, &created); err != nil {
		return err
	}
	f.browserVersion = created.Capabilities.BrowserName + " " + created.Capabilities.BrowserVersion
	tree, err := f.call("browsingContext.getTree", map[string]any{"maxDepth": 0})
	if err != nil {
		return err
	}
	var contexts struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal(tree, &contexts); err != nil || len(contexts.Contexts) == 0 {
		return fmt.Errorf("browsingContext.getTree returned no tab: %s", tree)
	}
	f.context = contexts.Contexts[0].Context
	_, err = f.call("session.subscribe", map[string]any{"events": []string{"log.entryAdded"}})
	return err
}

// read dispatches every incoming message until the connection ends.
func (f *firefox) read() {
	for {
		var data []byte
		if err := websocket.Message.Receive(f.ws, &data); err != nil {
			f.mu.Lock()
			f.closed = err
			for id, ch := range f.waiting {
				close(ch)
				delete(f.waiting, id)
			}
			f.mu.Unlock()
			return
		}
		var m bidiMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m.Type == "event" {
			if m.Method == "log.entryAdded" {
				var entry struct {
					Text string `json:"text"`
				}
				if json.Unmarshal(m.Params, &entry) == nil {
					f.mu.Lock()
					f.lines = append(f.lines, entry.Text)
					f.mu.Unlock()
				}
			}
			continue
		}
		f.mu.Lock()
		ch := f.waiting[m.ID]
		delete(f.waiting, m.ID)
		f.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends one command and waits for its result.
func (f *firefox) call(method string, params any) (json.RawMessage, error) {
	f.mu.Lock()
	if f.closed != nil {
		f.mu.Unlock()
		return nil, fmt.Errorf("%s: connection to firefox closed: %w", method, f.closed)
	}
	f.nextID++
	id := f.nextID
	ch := make(chan bidiMessage, 1)
	f.waiting[id] = ch
	f.mu.Unlock()

	f.sendMu.Lock()
	err := websocket.JSON.Send(f.ws, map[string]any{"id": id, "method": method, "params": params})
	f.sendMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: connection to firefox closed", method)
		case m.Type == "error":
			return nil, fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		return m.Result, nil
	case <-time.After(engineTimeout):
		f.mu.Lock()
		delete(f.waiting, id)
		f.mu.Unlock()
		return nil, fmt.Errorf("%s: no answer within %s", method, engineTimeout)
	}
}

func (f *firefox) navigate(url string) error {
	f.mu.Lock()
	f.lines = nil
	f.mu.Unlock()
	_, err := f.call("browsingContext.navigate", map[string]any{"context": f.context, "url": url, "wait": "complete"})
	return err
}

func (f *firefox) evaluate(expr string) (string, error) {
	raw, err := f.call("script.evaluate", map[string]any{
		"expression":      awaitJSON(expr),
		"target":          map[string]any{"context": f.context},
		"awaitPromise":    true,
		"resultOwnership": "none",
	})
	if err != nil {
		return "", err
	}
	var res struct {
		Type   string `json:"type"` // success or exception
		Result struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return "", err
	}
	if res.Type != "success" {
		return "", fmt.Errorf("script threw: %s", res.ExceptionDetails.Text)
	}
	return res.Result.Value, nil
}

func (f *firefox) version() string { return f.browserVersion }

func (f *firefox) console() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.lines...)
}

func (f *firefox) screenshot() ([]byte, error) {
	raw, err := f.call("browsingContext.captureScreenshot", map[string]any{"context": f.context, "origin": "document"})
	if err != nil {
		return nil, err
	}
	var shot struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(raw, &shot); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(shot.Data)
}

// stop asks Firefox to close, then ends its process group.
func (f *firefox) stop() {
	if f.ws != nil {
		_, _ = f.call("browser.close", map[string]any{})
		_ = f.ws.Close()
	}
	select {
	case <-f.proc.done:
	case <-time.After(5 * time.Second):
	}
	f.proc.stop()
}
