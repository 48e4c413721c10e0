// Package originlookup asks something slow (an HTTP endpoint) whether an
// origin is allowed, on behalf of many requests at once: answers are
// cached with their own lifetimes and a bound on entries, concurrent
// requests for one origin share one lookup, and at most a fixed number of
// lookups run at once.
package originlookup

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBusy is the answer when MaxInFlight lookups are already under way: a
// flood of made-up origins must cost the endpoint a bounded number of
// concurrent requests, never a queue.
var ErrBusy = errors.New("too many lookups under way")

// Config says how long each kind of answer is kept and how much work is
// allowed at once.
type Config struct {
	Ask         func(origin string) (bool, error) // the slow lookup; an error is a failure to answer
	Allowed     time.Duration                     // how long a yes is kept
	Refused     time.Duration                     // how long a no is kept
	Failed      time.Duration                     // how long a failure is kept
	Size        int                               // at most this many answers are kept
	MaxInFlight int                               // at most this many lookups at once
	Now         func() time.Time                  // the clock; nil: time.Now, read every Tick
}

// Tick is how stale the clock that judges a kept answer's age may be.
// Reading the time costs more than finding the answer, so it is read
// by a ticker and kept; an answer may then live up to Tick longer or
// shorter than its lifetime.
const Tick = 100 * time.Millisecond

// Lookup is safe for concurrent use.
type Lookup struct {
	cfg Config

	mu      sync.RWMutex
	answers map[string]answer

	callsMu sync.Mutex
	calls   map[string]*call

	clock     atomic.Int64 // Unix nanoseconds, when cfg.Now is nil
	stop      chan struct{}
	closeOnce sync.Once
}

type answer struct {
	allowed bool
	err     error
	expires int64 // Unix nanoseconds
}

// call is a lookup under way, which later requests for its origin wait on.
type call struct {
	done    chan struct{}
	allowed bool
	err     error
}

// New makes a Lookup.
// New makes a Lookup; Close stops its clock.
func New(cfg Config) *Lookup {
	l := &Lookup{cfg: cfg, answers: make(map[string]answer), calls: make(map[string]*call)}
	if cfg.Now == nil {
		l.clock.Store(time.Now().UnixNano())
		l.stop = make(chan struct{})
		go l.tick(l.stop)
	}
	return l
}

func (l *Lookup) tick(stop <-chan struct{}) {
	ticker := time.NewTicker(Tick)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-ticker.C:
			l.clock.Store(now.UnixNano())
		}
	}
}

// Close stops the clock of a Lookup made without Config.Now.
func (l *Lookup) Close() {
	if l.stop != nil {
		l.closeOnce.Do(func() { close(l.stop) })
	}
}

func (l *Lookup) now() int64 {
	if l.cfg.Now != nil {
		return l.cfg.Now().UnixNano()
	}
	return l.clock.Load()
}

// Allow answers for origin, from the cache when it can (cached is then
// true), else by asking. A kept answer costs no allocation.
func (l *Lookup) Allow(origin string) (allowed bool, err error, cached bool) {
	l.mu.RLock()
	a, ok := l.answers[origin]
	l.mu.RUnlock()
	if ok && l.now() < a.expires {
		return a.allowed, a.err, true
	}

	l.callsMu.Lock()
	if c, ok := l.calls[origin]; ok {
		l.callsMu.Unlock()
		<-c.done
		return c.allowed, c.err, false
	}
	if len(l.calls) >= l.cfg.MaxInFlight {
		l.callsMu.Unlock()
		return false, ErrBusy, false
	}
	// The key outlives the request whose header holds origin.
	origin = strings.Clone(origin)
	c := &call{done: make(chan struct{})}
	l.calls[origin] = c
	l.callsMu.Unlock()

	c.allowed, c.err = l.cfg.Ask(origin)
	l.keep(origin, c.allowed, c.err)

	l.callsMu.Lock()
	delete(l.calls, origin)
	l.callsMu.Unlock()
	close(c.done)
	return c.allowed, c.err, false
}

// keep caches an answer for its lifetime, making room when the cache is
// full: an expired answer if one of the first few looked at is, else
// whichever comes first in the map's random order. Either way a flood of
// made-up origins costs a bounded amount of memory and of work per answer.
func (l *Lookup) keep(origin string, allowed bool, err error) {
	ttl := l.cfg.Refused
	switch {
	case err != nil:
		ttl = l.cfg.Failed
	case allowed:
		ttl = l.cfg.Allowed
	}
	if ttl <= 0 || l.cfg.Size <= 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.answers[origin]; !ok && len(l.answers) >= l.cfg.Size {
		const probes = 8
		victim, n := "", 0
		for key, a := range l.answers {
			if victim == "" || now >= a.expires {
				victim = key
			}
			if n++; n == probes || now >= a.expires {
				break
			}
		}
		delete(l.answers, victim)
	}
	l.answers[origin] = answer{allowed: allowed, err: err, expires: now + int64(ttl)}
}

// Len is how many answers are kept.
func (l *Lookup) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.answers)
}
