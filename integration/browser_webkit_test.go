package integration

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// webkitKind is WebKitGTK (the engine of Safari, with its CORS code),
// driven with plain W3C WebDriver over HTTP by WebKitWebDriver. WebKitGTK
// has no headless mode, so it runs on an Xvfb display that the test starts
// and stops. Its automation browser does not hand console messages to
// WebDriver, so its console is not captured.
var webkitKind = engineKind{
	name:    "webkit",
	install: "apt-get install -y webkit2gtk-driver xvfb",
	find: func() error {
		var missing []string
		for _, name := range []string{"WebKitWebDriver", "Xvfb"} {
			if _, err := exec.LookPath(name); err != nil {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no %s on $PATH", strings.Join(missing, " or "))
		}
		return nil
	},
	start: startWebKit,
}

type webkit struct {
	dir, display   string
	xvfb, driver   *groupProcess
	driverOutput   *tailBuffer
	session        string // the WebDriver session URL
	browserVersion string
	client         *http.Client
}

// startWebKit starts Xvfb on a free display, then WebKitWebDriver on a free
// port, each in its own process group, and opens a WebDriver session.
func startWebKit(dir string) (browserEngine, error) {
	w := &webkit{dir: dir, client: &http.Client{Timeout: engineTimeout}, driverOutput: &tailBuffer{}}
	display, err := w.startXvfb(dir)
	if err != nil {
		return nil, err
	}
	w.display = display
	port, err := pickFreePort()
	if err != nil {
		w.stop()
		return nil, err
	}
	cmd := exec.Command("WebKitWebDriver", "--port="+port)
	cmd.Env = append(privateEnv(dir), "DISPLAY=:"+display)
	out, err := cmd.StdoutPipe()
	if err != nil {
		w.stop()
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if w.driver, err = startGroup(cmd); err != nil {
		w.stop()
		return nil, err
	}
	go w.driverOutput.consume(out)

	base := "http://127.0.0.1:" + port
	var created struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	// The driver listens a moment after it starts.
	deadline := time.Now().Add(engineTimeout)
	for {
		err = w.command(http.MethodPost, base+"/session", map[string]any{
			"capabilities": map[string]any{"alwaysMatch": map[string]any{}},
		}, &created)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		w.stop()
		return nil, fmt.Errorf("creating a WebDriver session: %w; WebKitWebDriver wrote:\n%s", err, w.driverOutput)
	}
	w.session = base + "/session/" + created.SessionID
	w.browserVersion = created.Capabilities.BrowserName + " (WebKitGTK) " + created.Capabilities.BrowserVersion
	return w, nil
}

// startXvfb starts Xvfb and returns the display number it chose, which it
// writes on the file descriptor given to -displayfd.
func (w *webkit) startXvfb(dir string) (string, error) {
	r, wr, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x1024x24")
	cmd.Env = privateEnv(dir)
	cmd.ExtraFiles = []*os.File{wr} // fd 3
	output := &tailBuffer{}
	cmd.Stderr = (*tailWriter)(output)
	w.xvfb, err = startGroup(cmd)
	wr.Close()
	if err != nil {
		return "", err
	}
	displayLine := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		displayLine <- strings.TrimSpace(line)
	}()
	select {
	case d := <-displayLine:
		if _, err := strconv.Atoi(d); err != nil {
			w.stop()
			return "", fmt.Errorf("Xvfb gave no display number; it wrote:\n%s", output)
		}
		return d, nil
	case <-time.After(engineTimeout):
		w.stop()
		return "", fmt.Errorf("Xvfb gave no display within %s; it wrote:\n%s", engineTimeout, output)
	}
}

// tailWriter lets a tailBuffer be a process's stderr.
type tailWriter tailBuffer

func (t *tailWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		(*tailBuffer)(t).add(line)
	}
	return len(p), nil
}

// command sends one WebDriver command and decodes its "value" into out.
func (w *webkit) command(method, url string, body any, out any) error {
	var payload io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, payload)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return fmt.Errorf("%s %s: status %d, undecodable reply: %w", method, url, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, reply.Value)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(reply.Value, out)
}

func (w *webkit) navigate(url string) error {
	return w.command(http.MethodPost, w.session+"/url", map[string]any{"url": url}, nil)
}

// evaluate runs expr through execute/async, whose last argument is the
// callback that ends the script.
func (w *webkit) evaluate(expr string) (string, error) {
	script := `const done = arguments[arguments.length - 1];
(` + awaitJSON(expr) + `).then(json => done({json: json}), err => done({error: String(err)}));`
	var res struct {
		JSON  *string `json:"json"`
		Error string  `json:"error"`
	}
	if err := w.command(http.MethodPost, w.session+"/execute/async", map[string]any{"script": script, "args": []any{}}, &res); err != nil {
		return "", err
	}
	if res.JSON == nil {
		return "", errors.New("script threw: " + res.Error)
	}
	return *res.JSON, nil
}

func (w *webkit) console() []string { return nil }

func (w *webkit) version() string { return w.browserVersion }

func (w *webkit) screenshot() ([]byte, error) {
	var data string
	if err := w.command(http.MethodGet, w.session+"/screenshot", nil, &data); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(data)
}

// stop ends the session (which closes the browser), then the driver's
// process group, then Xvfb's.
func (w *webkit) stop() {
	if w.session != "" {
		_ = w.command(http.MethodDelete, w.session, nil, nil)
	}
	if w.driver != nil {
		w.driver.stop()
	}
	if w.xvfb != nil {
		w.xvfb.stop()
	}
}

// miniBrowserPath finds WebKitGTK's MiniBrowser, the browser that
// WebKitWebDriver drives: $WEBKIT_MINIBROWSER, or where Debian puts it.
func miniBrowserPath() (string, error) {
	if p := os.Getenv("WEBKIT_MINIBROWSER"); p != "" {
		return exec.LookPath(p)
	}
	matches, _ := filepath.Glob("/usr/lib/*/webkit2gtk-4.*/MiniBrowser")
	if len(matches) == 0 {
		return "", errors.New("no /usr/lib/*/webkit2gtk-4.*/MiniBrowser and $WEBKIT_MINIBROWSER unset")
	}
	return matches[0], nil
}

// consoleOfPage opens url in a MiniBrowser of its own, outside automation,
// and returns the console lines it writes up to and including the
// first that contains last. Under WebDriver the same browser keeps its
// console to itself; on its own it writes every console line, the CORS
// errors included, as "CONSOLE <source> <level> <text>".
func (w *webkit) consoleOfPage(url, last string) ([]string, error) {
	path, err := miniBrowserPath()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--enable-write-console-messages-to-stdout=true", url)
	cmd.Env = append(privateEnv(filepath.Join(w.dir, "minibrowser")), "DISPLAY=:"+w.display)
	// Despite the setting's name, the lines go to the web process's
	// stderr, which is unbuffered.
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	lines := make(chan string, 100)
	output := &tailBuffer{onLine: func(line string) {
		select {
		case lines <- line:
		default: // after the last line, nobody reads
		}
	}}
	proc, err := startGroup(cmd)
	if err != nil {
		return nil, err
	}
	defer proc.stop()
	go output.consume(stderr)
	var got []string
	deadline := time.After(engineTimeout)
	for {
		select {
		case line := <-lines:
			if i := strings.Index(line, "CONSOLE "); i >= 0 {
				got = append(got, line[i:])
			}
			if strings.Contains(line, last) {
				return got, nil
			}
		case <-deadline:
			return got, fmt.Errorf("MiniBrowser wrote no %q within %s; it wrote:\n%s", last, engineTimeout, output)
		}
	}
}
