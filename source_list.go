package cors

import (
	"context"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/caddy-cors/cors/internal/origins"
)

// polledList is what the file and storage sources share: a list of
// origins read again every interval and swapped in whole when it changed
// and is valid, matched with the structures of allowed_origins.
type polledList struct {
	source string // the source's name: file, storage
	name   string // where the list is: a path, a key

	matcher atomic.Pointer[origins.Matcher]
	logger  *zap.Logger
	allowed prometheus.Counter
	refused prometheus.Counter

	// What the last read saw, for the poller alone.
	lastSum [sha256.Size]byte
	count   int

	stop context.CancelFunc
	done sync.WaitGroup
}

// defaultListInterval is how often a list is checked when interval is not set.
const defaultListInterval = 5 * time.Second

func (l *polledList) init(ctx caddy.Context, source, name string) error {
	if err := registerSourceMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	l.source, l.name = source, name
	l.logger = ctx.Logger()
	l.allowed = sourceLookupsTotal.WithLabelValues(source, "allowed", "")
	l.refused = sourceLookupsTotal.WithLabelValues(source, "refused", "")
	return nil
}

func (l *polledList) allowOrigin(origin string) (bool, error) {
	if l.matcher.Load().Allows(origin) {
		l.allowed.Inc()
		return true, nil
	}
	l.refused.Inc()
	return false, nil
}

// swapIn puts the list data holds in force, if it is new and valid: its
// content decides, so that a new file with the same list is no change.
func (l *polledList) swapIn(data []byte) (changed bool, err error) {
	sum := sha256.Sum256(data)
	if l.matcher.Load() != nil && sum == l.lastSum {
		return false, nil
	}
	l.lastSum = sum
	m, n, err := origins.ParseList(l.name, data)
	if err != nil {
		return false, err
	}
	l.matcher.Store(m)
	l.count = n
	return true, nil
}

// watch calls reload every interval until cleanup, and logs and counts
// what changed: each problem once, not once per interval.
func (l *polledList) watch(interval time.Duration, reload func() (changed bool, err error)) {
	ctx, stop := context.WithCancel(context.Background())
	l.stop = stop
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		var lastErr string
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			changed, err := reload()
			switch {
			case err != nil && err.Error() != lastErr:
				lastErr = err.Error()
				l.countReload(reloadFailure(err))
				l.logger.Error("origins "+l.source+" not reloaded: the last good list stays in force; fix it, it is read again when it changes",
					zap.String(l.source, l.name), zap.Error(err))
			case changed:
				lastErr = ""
				l.countReload("loaded")
				l.logger.Info("origins "+l.source+" reloaded", zap.String(l.source, l.name), zap.Int("origins", l.count))
			}
		}
	}()
}

func (l *polledList) cleanup() {
	if l.stop != nil {
		l.stop()
		l.done.Wait()
	}
}

func (l *polledList) countReload(result string) {
	sourceReloadsTotal.WithLabelValues(l.source, result).Inc()
}

// errUnreadable marks a list that could not be read, as opposed to one
// whose content is invalid.
type errUnreadable struct{ error }

func (e errUnreadable) Unwrap() error { return e.error }

func reloadFailure(err error) string {
	if _, ok := err.(errUnreadable); ok {
		return "unreadable"
	}
	return "invalid"
}
