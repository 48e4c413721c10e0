package cors

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

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

	list     polledList
	lastStat os.FileInfo // for the poller alone
}

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
		s.Interval = caddy.Duration(defaultListInterval)
	}
	if err := s.list.init(ctx, "file", s.Path); err != nil {
		return err
	}
	if _, err := s.reload(); err != nil {
		return fmt.Errorf("origins_from file: %w", err)
	}
	s.list.countReload("loaded")
	s.list.watch(time.Duration(s.Interval), s.reload)
	return nil
}

// AllowOrigin reports whether the file's last good list allows origin.
func (s *FileSource) AllowOrigin(origin string) (bool, error) {
	return s.list.allowOrigin(origin)
}

// Cleanup stops watching the file.
func (s *FileSource) Cleanup() error {
	s.list.cleanup()
	return nil
}

// reload reads the file if it changed since the last read, and swaps the
// list in when it is valid. The file is found through its path each time,
// so that a file renamed over it or a symbolic link changed to lead
// elsewhere is what is read.
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
	return s.list.swapIn(data)
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
