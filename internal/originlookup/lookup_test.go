package originlookup

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestAnswersAreKeptForTheirOwnLifetimes(t *testing.T) {
	clk := &clock{now: time.Unix(1e9, 0)}
	asked := map[string]int{}
	failure := errors.New("endpoint down")
	l := New(Config{
		Ask: func(origin string) (bool, error) {
			asked[origin]++
			switch origin {
			case "https://yes.example":
				return true, nil
			case "https://down.example":
				return false, failure
			}
			return false, nil
		},
		Allowed: time.Minute, Refused: 10 * time.Second, Failed: 5 * time.Second,
		Size: 100, MaxInFlight: 4, Now: clk.Now,
	})
	check := func(origin string, wantAllowed bool, wantErr error, wantCached bool) {
		t.Helper()
		allowed, err, cached := l.Allow(origin)
		if allowed != wantAllowed || err != wantErr || cached != wantCached {
			t.Errorf("%s: %v, %v, cached %v; want %v, %v, cached %v", origin, allowed, err, cached, wantAllowed, wantErr, wantCached)
		}
	}
	for _, o := range []string{"https://yes.example", "https://no.example", "https://down.example"} {
		l.Allow(o)
	}
	clk.now = clk.now.Add(4 * time.Second)
	check("https://yes.example", true, nil, true)
	check("https://no.example", false, nil, true)
	check("https://down.example", false, failure, true)
	clk.now = clk.now.Add(2 * time.Second) // 6 s: the failure expired
	check("https://down.example", false, failure, false)
	clk.now = clk.now.Add(5 * time.Second) // 11 s: the no expired
	check("https://no.example", false, nil, false)
	check("https://yes.example", true, nil, true)
	clk.now = clk.now.Add(time.Minute)
	check("https://yes.example", true, nil, false)
	if asked["https://yes.example"] != 2 || asked["https://no.example"] != 2 || asked["https://down.example"] != 2 {
		t.Errorf("asked %v, want each origin twice", asked)
	}
}

func TestTheCacheIsBounded(t *testing.T) {
	l := New(Config{
		Ask:     func(string) (bool, error) { return false, nil },
		Refused: time.Hour, Size: 100, MaxInFlight: 1,
	})
	for i := range 10_000 {
		l.Allow("https://" + strconv.Itoa(i) + ".example")
	}
	if n := l.Len(); n != 100 {
		t.Errorf("%d answers kept, want the bound of 100", n)
	}
}

// Concurrent requests for one origin share one lookup, and beyond
// MaxInFlight lookups a request is refused at once with ErrBusy.
func TestLookupsAreSharedAndBounded(t *testing.T) {
	release := make(chan struct{})
	var asks, inFlight, maxInFlight atomic.Int64
	l := New(Config{
		Ask: func(string) (bool, error) {
			asks.Add(1)
			n := inFlight.Add(1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			<-release
			inFlight.Add(-1)
			return true, nil
		},
		Allowed: time.Hour, Size: 100, MaxInFlight: 3,
	})
	var wg sync.WaitGroup
	results := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err, _ := l.Allow("https://" + strconv.Itoa(i%5) + ".example")
			results <- err
		}()
	}
	// Wait until the three lookups are under way and every other request
	// is either waiting on one or already refused.
	for inFlight.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	busy := 0
	for busy < 100-60 { // the requests for the two origins not in flight
		if err := <-results; err != ErrBusy {
			t.Fatalf("a request ended with %v before any lookup did", err)
		}
		busy++
	}
	close(release)
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("a request waiting on a lookup got %v", err)
		}
	}
	if asks.Load() != 3 || maxInFlight.Load() != 3 {
		t.Errorf("%d lookups, at most %d at once; want 3 shared by 60 requests", asks.Load(), maxInFlight.Load())
	}
}
