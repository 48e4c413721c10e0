package cors

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/caddy-cors/cors/internal/origins"
)

func init() {
	caddy.RegisterModule(new(FileSource))
}

// FileSource allows the origins listed in a file: one origin or pattern
// per line, written as in `allowed_origins` (`https://app.example.com`,
// `https://*.example.com`, `http://localhost:*`), with blank lines and
// lines starting with `#` skipped. `*` cannot be listed.
//
// The file is read when the configuration loads: a missing or invalid
// file is then a load error that names `file:line`. It is then checked
// every `interval` and read again when it changed, including when another
// file was renamed over it or a symbolic link on its path now leads
// elsewhere, as Kubernetes updates a mounted ConfigMap. A new content
// with any invalid line is refused whole: the error is logged with
// `file:line`, counted, and the last good list stays in force. A good one
// replaces the list at once for every request.
//
// However many origins the file lists, matching one costs what matching
// `allowed_origins` does.
type FileSource struct {
	// The file's path.
	Path string `json:"path,omitempty"`

	// How often the file is checked for changes. Default: `5s`.
	Interval caddy.Duration `json:"interval,omitempty"`

	matcher atomic.Pointer[origins.Matcher]
	logger  *zap.Logger
	allowed prometheus.Counter
	refused prometheus.Counter

	// What the last read saw, for the poller alone.
	lastStat os.FileInfo
	lastSum  [sha256.Size]byte
	count    int

	stop context.CancelFunc
	done sync.WaitGroup
}

// defaultFileInterval is how often a file is checked when interval is not set.
const defaultFileInterval = 5 * time.Second

// CaddyModule returns the Caddy module information.
func (*FileSource) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cors.origin_sources.file",
		New: func() caddy.Module { return new(FileSource) },
	}
}

// UnmarshalCaddyfile reads:
//
//	origins_from file <path> {
//		interval <duration>
//	}
func (s *FileSource) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the source's name
	if !d.NextArg() {
		return d.Errf("origins_from file needs the path of a file that lists one origin per line")
	}
	s.Path = d.Val()
	if d.NextArg() {
		return d.Errf("origins_from file takes one path; list the origins in the file, one per line")
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "interval":
			if !d.NextArg() {
				return d.ArgErr()
			}
			interval, err := caddy.ParseDuration(d.Val())
			if err != nil || interval <= 0 {
				return d.Errf("invalid interval '%s': write a duration such as 5s", d.Val())
			}
			s.Interval = caddy.Duration(interval)
			if d.NextArg() {
				return d.ArgErr()
			}
		default:
			return d.Errf("unrecognized option '%s' of origins_from file: the only one is interval", d.Val())
		}
	}
	return nil
}

// Provision reads the file, which must exist and be valid, and starts
// watching it.
func (s *FileSource) Provision(ctx caddy.Context) error {
	if s.Path == "" {
		return fmt.Errorf("origin source file: path is empty: name the file that lists one origin per line")
	}
	if s.Interval < 0 {
		return fmt.Errorf("origin source file %s: interval %s is negative: write a duration such as 5s", s.Path, time.Duration(s.Interval))
	}
	if s.Interval == 0 {
		s.Interval = caddy.Duration(defaultFileInterval)
	}
	if err := registerSourceMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	s.logger = ctx.Logger()
	s.allowed = sourceLookupsTotal.WithLabelValues("file", "allowed", "")
	s.refused = sourceLookupsTotal.WithLabelValues("file", "refused", "")
	if _, err := s.reload(); err != nil {
		return fmt.Errorf("origins_from file: %w", err)
	}
	countFileReload("loaded")
	watch, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.done.Add(1)
	go s.watch(watch)
	return nil
}

// AllowOrigin reports whether the file's last good list allows origin.
func (s *FileSource) AllowOrigin(origin string) (bool, error) {
	if s.matcher.Load().Allows(origin) {
		s.allowed.Inc()
		return true, nil
	}
	s.refused.Inc()
	return false, nil
}

// Cleanup stops watching the file.
func (s *FileSource) Cleanup() error {
	if s.stop != nil {
		s.stop()
		s.done.Wait()
	}
	return nil
}

// watch checks the file every interval until ctx ends.
func (s *FileSource) watch(ctx context.Context) {
	defer s.done.Done()
	ticker := time.NewTicker(time.Duration(s.Interval))
	defer ticker.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		changed, err := s.reload()
		switch {
		case err != nil && err.Error() != lastErr:
			// Once per problem, not once per interval.
			lastErr = err.Error()
			countFileReload(reloadFailure(err))
			s.logger.Error("origins file not reloaded: the last good list stays in force; fix the file, it is read again when it changes",
				zap.String("path", s.Path), zap.Error(err))
		case changed:
			lastErr = ""
			countFileReload("loaded")
			s.logger.Info("origins file reloaded", zap.String("path", s.Path), zap.Int("origins", s.count))
		}
	}
}

// errUnreadable marks a file that could not be read, as opposed to one
// whose content is invalid.
type errUnreadable struct{ error }

func (e errUnreadable) Unwrap() error { return e.error }

func reloadFailure(err error) string {
	if _, ok := err.(errUnreadable); ok {
		return "unreadable"
	}
	return "invalid"
}

func countFileReload(result string) {
	sourceReloadsTotal.WithLabelValues("file", result).Inc()
}

// reload reads the file if it changed since the last read, and swaps the
// list in when it is valid. The file is found through its path each time,
// so that a file renamed over it or a symbolic link changed to lead
// elsewhere is what is read; its content decides, so that a new file with
// the same list is no change.
func (s *FileSource) reload() (changed bool, err error) {
	info, err := os.Stat(s.Path)
	if err == nil && s.lastStat != nil && os.SameFile(info, s.lastStat) &&
		info.Size() == s.lastStat.Size() && info.ModTime().Equal(s.lastStat.ModTime()) {
		return false, nil
	}
	var data []byte
	if err == nil {
		data, err = readList(s.Path)
	}
	if err != nil {
		return false, errUnreadable{err}
	}
	s.lastStat = info
	sum := sha256.Sum256(data)
	if s.matcher.Load() != nil && sum == s.lastSum {
		return false, nil
	}
	s.lastSum = sum
	m, n, err := origins.ParseList(s.Path, data)
	if err != nil {
		return false, err
	}
	s.matcher.Store(m)
	s.count = n
	return true, nil
}

// readList reads a list of origins, at most a byte more than a list may
// have, so that ParseList can refuse a huge file without it all in memory.
func readList(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, origins.MaxListSize+1))
}

// Interface guards
var (
	_ OriginSource          = (*FileSource)(nil)
	_ caddy.Provisioner     = (*FileSource)(nil)
	_ caddy.CleanerUpper    = (*FileSource)(nil)
	_ caddyfile.Unmarshaler = (*FileSource)(nil)
)
