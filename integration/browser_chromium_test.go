package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
)

// chromiumKind is headless Chromium, driven over the DevTools protocol by
// chromedp. It is found at $CHROMIUM, or as chromium, chromium-browser or
// google-chrome on $PATH.
var chromiumKind = engineKind{
	name:    "chromium",
	install: "apt-get install -y chromium, or set CHROMIUM=/path/to/chrome",
	find: func() error {
		_, err := chromiumPath()
		return err
	},
	start: startChromium,
	blames: func(line, url string) bool {
		return strings.Contains(line, "CORS policy") && strings.Contains(line, url)
	},
}

// chromiumPath finds Chromium: $CHROMIUM, then the usual names on $PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on $PATH and $CHROMIUM unset")
}

type chromium struct {
	tab    context.Context // the one page
	cancel func()
	pgid   int

	product string // as Browser.getVersion names it: HeadlessChrome/<version>

	mu    sync.Mutex
	lines []string
}

// startChromium starts headless Chromium in its own process group, with a
// profile in dir, and opens the one page the tests use.
func startChromium(dir string) (browserEngine, error) {
	c, err := startChromiumWith(dir)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// startChromiumWith is startChromium with more command-line switches, for a
// test that needs a Chromium of its own (chromedp.Flag("name", "value")).
func startChromiumWith(dir string, switches ...chromedp.ExecAllocatorOption) (*chromium, error) {
	path, err := chromiumPath()
	if err != nil {
		return nil, err
	}
	c := &chromium{}
	var cmd *exec.Cmd
	options := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1100, 900),
		chromedp.ModifyCmdFunc(func(c *exec.Cmd) {
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			c.Env = privateEnv(dir)
			cmd = c
		}),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(options, switches...)...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	c.tab = browserCtx
	c.cancel = func() {
		cancelBrowser()
		cancelAlloc()
	}
	// The first call starts the browser (and so may not carry a timeout).
	err = c.listenConsole()
	if cmd != nil && cmd.Process != nil {
		c.pgid = cmd.Process.Pid
	}
	if err == nil {
		var v browser.GetVersionResult
		if v, err = chromedp.CallBrowser(browserCtx, browser.GetVersion, cdp.Empty{}); err == nil {
			c.product = v.Product
		}
	}
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// listenConsole collects the console lines of c's page.
func (c *chromium) listenConsole() error {
	return chromedp.Listen(c.tab, func(ev any) {
		if e, ok := ev.(*log.EventEntryAdded); ok && e.Entry != nil {
			c.mu.Lock()
			c.lines = append(c.lines, e.Entry.Text)
			c.mu.Unlock()
		}
	})
}

// newTab opens another page in the same browser, with a console of its
// own, for a test that changes what the DevTools protocol does in its page
// (the Fetch domain). Its stop closes the page only.
func (c *chromium) newTab() (*chromium, error) {
	ctx, cancel := chromedp.NewContext(c.tab)
	tab := &chromium{tab: ctx, cancel: cancel, product: c.product}
	if err := tab.listenConsole(); err != nil {
		cancel()
		return nil, err
	}
	timeout, cancelTimeout := context.WithTimeout(ctx, engineTimeout)
	defer cancelTimeout()
	if err := chromedp.Do(timeout); err != nil { // opens the page
		cancel()
		return nil, err
	}
	return tab, nil
}

// stop closes Chromium through chromedp, which waits for the main process,
// then ends what is left of its process group.
func (c *chromium) stop() {
	c.cancel()
	if c.pgid != 0 {
		killGroup(c.pgid)
	}
}

func (c *chromium) navigate(url string) error {
	c.mu.Lock()
	c.lines = nil
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.tab, engineTimeout)
	defer cancel()
	return chromedp.Do(ctx, chromedp.Navigate(url))
}

func (c *chromium) evaluate(expr string) (string, error) {
	ctx, cancel := context.WithTimeout(c.tab, engineTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](awaitJSON(expr), chromedp.EvalAwaitPromise))
}

func (c *chromium) version() string { return c.product }

func (c *chromium) console() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.lines...)
}

func (c *chromium) screenshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(c.tab, engineTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}
