package cors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/certmagic"
)

func init() {
	caddy.RegisterModule(new(StorageSource))
}

// StorageSource allows the origins listed under a key of Caddy's
// configured storage, in the format of the file source: one origin or
// pattern per line, `#` comments. The storage is the one Caddy keeps its
// certificates in: the file system by default, or a backend a cluster of
// Caddy instances shares (Redis, Consul and other storage modules), so
// that every instance enforces one list that is changed once.
//
// The key is read when the configuration loads: a missing key or an
// invalid list is then a load error that names `key:line`. It is then
// read again every `interval`; a new list with any invalid line is
// refused whole, logged and counted, and the last good list stays in
// force.
type StorageSource struct {
	// The storage key that holds the list, such as `cors/origins.txt`.
	Key string `json:"key,omitempty"`

	// How often the key is read again. Default: `5s`.
	Interval caddy.Duration `json:"interval,omitempty"`

	storage certmagic.Storage
	list    polledList
}

// CaddyModule returns the Caddy module information.
func (*StorageSource) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cors.origin_sources.storage",
		New: func() caddy.Module { return new(StorageSource) },
	}
}

// UnmarshalCaddyfile reads:
//
//	origins_from storage <key> {
//		interval <duration>
//	}
func (s *StorageSource) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the source's name
	if !d.NextArg() {
		return d.Errf("origins_from storage needs the storage key that holds the list, such as cors/origins.txt")
	}
	s.Key = d.Val()
	if d.NextArg() {
		return d.Errf("origins_from storage takes one key")
	}
	for d.NextBlock(0) {
		if d.Val() != "interval" {
			return d.Errf("unrecognized option '%s' of origins_from storage: the only one is interval", d.Val())
		}
		if !d.NextArg() {
			return d.ArgErr()
		}
		if err := parsePositiveDuration(d, "interval", &s.Interval); err != nil {
			return err
		}
		if d.NextArg() {
			return d.ArgErr()
		}
	}
	return nil
}

// Provision reads the key, which must hold a valid list, and starts
// reading it again every interval.
func (s *StorageSource) Provision(ctx caddy.Context) error {
	if s.Key == "" {
		return errors.New("origins_from storage: key is empty: name the storage key that holds the list, such as cors/origins.txt")
	}
	if s.Interval < 0 {
		return fmt.Errorf("origins_from storage %s: interval %s is negative: write a duration such as 5s", s.Key, time.Duration(s.Interval))
	}
	if s.Interval == 0 {
		s.Interval = caddy.Duration(defaultListInterval)
	}
	s.storage = ctx.Storage()
	if err := s.list.init(ctx, "storage", s.Key); err != nil {
		return err
	}
	if _, err := s.reload(); err != nil {
		return fmt.Errorf("origins_from storage: %w", err)
	}
	s.list.countReload("loaded")
	s.list.watch(time.Duration(s.Interval), s.reload)
	return nil
}

// reload reads the key and swaps the list in when it changed and is
// valid. A storage backend may have no cheap way to tell a change, so the
// content is read each time and compared.
func (s *StorageSource) reload() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.Interval))
	defer cancel()
	data, err := s.storage.Load(ctx, s.Key)
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("storage key %q does not exist in Caddy's storage: store the list there first: caddy cors-origins set --from <file> --config <this configuration>", s.Key)
	}
	if err != nil {
		return false, errUnreadable{err}
	}
	return s.list.swapIn(data)
}

// AllowOrigin reports whether the key's last good list allows origin.
func (s *StorageSource) AllowOrigin(origin string) (bool, error) {
	return s.list.allowOrigin(origin)
}

// Cleanup stops reading the key.
func (s *StorageSource) Cleanup() error {
	s.list.cleanup()
	return nil
}

// Interface guards
var (
	_ OriginSource          = (*StorageSource)(nil)
	_ caddy.Provisioner     = (*StorageSource)(nil)
	_ caddy.CleanerUpper    = (*StorageSource)(nil)
	_ caddyfile.Unmarshaler = (*StorageSource)(nil)
)
