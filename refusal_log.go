package cors

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-cors/cors/internal/policy"
)

// How much of a request's path and host a log line shows (a host name may
// have 253 bytes, then a port); other request values are cut to
// policy.MaxValueLen.
const (
	maxLoggedPathLen = 256
	maxLoggedHostLen = 260
)

// Refusal log lines are sampled per handler, kind of request and reason,
// so that a flood of refused requests (anyone can send preflights) writes a
// bounded number of lines: in each second, the first logSampleFirst lines
// of a reason are written, then one in logSampleThereafter. Metrics still
// count every one.
const (
	logSampleFirst      = 10
	logSampleThereafter = 100
)

// refusalGate lets through the refusal lines of one handler that are to be
// written: one count for each kind of request and reason, looked up by
// position, so that no two of them share a count, and no flood refused by
// one handler or for one reason thins out the lines of another.
type refusalGate [len(kindNames)][len(outcomes)]refusalCount

// refusalCount counts the refusals of one kind and reason in the current
// second of refusalClock.
type refusalCount struct {
	second atomic.Int64
	n      atomic.Uint64
}

// open reports whether the line of a refusal of kind with outcome is to be
// written.
func (g *refusalGate) open(kind policy.Kind, outcome int) bool {
	return g[kindIndex(kind)][outcome].admit(refusalClock.second())
}

// admit counts one refusal in second and reports whether its line is
// written. Two refusals at the turn of a second may both start it again:
// a line more, never one fewer.
func (rc *refusalCount) admit(second int64) bool {
	if last := rc.second.Load(); last != second && rc.second.CompareAndSwap(last, second) {
		rc.n.Store(1)
		return true
	}
	n := rc.n.Add(1)
	return n <= logSampleFirst || (n-logSampleFirst)%logSampleThereafter == 0
}

// refusalClock is the gate's clock, for every handler of the process.
var refusalClock coarseClock

// coarseClock counts seconds with a ticker, so that reading it costs a few
// atomic loads: the gate reads it on every refused request, and reading
// the time (time.Now, or the monotonic clock it is built on) costs about
// 50 ns on a virtual machine, as much as the rest of a refusal that writes
// no line. Its seconds are the ticker's, not the wall clock's, which the
// sampling does not need. The ticker runs while the clock is read: it
// starts at the first reading and stops after a quiet spell, so a process
// that refuses nothing runs no goroutine for it.
type coarseClock struct {
	now     atomic.Int64 // seconds counted
	running atomic.Bool  // a ticker counts them
	read    atomic.Bool  // read since the last tick
}

// clockIdleTicks is how many ticks without a reading stop the ticker.
const clockIdleTicks = 10

func (c *coarseClock) second() int64 {
	// Written once a second at most, so that readings on several cores do
	// not contend for its cache line.
	if !c.read.Load() {
		c.read.Store(true)
	}
	if !c.running.Load() && c.running.CompareAndSwap(false, true) {
		// A second of its own: the ticker stopped at least
		// clockIdleTicks seconds ago.
		c.now.Add(1)
		go c.tick()
	}
	return c.now.Load()
}

func (c *coarseClock) tick() {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for idle := 0; idle < clockIdleTicks; {
		<-ticker.C
		c.now.Add(1)
		if c.read.Swap(false) {
			idle = 0
		} else {
			idle++
		}
	}
	// A reading from now on starts another ticker.
	c.running.Store(false)
}

// logRejection logs a refused request of kind with the values it was
// refused for, each cut and limited to visible ASCII, unless the gate
// holds the line back: a preflight at info, another request at debug.
// message is the rejection's message when it was already built, else nil:
// it is then built only if the line is written.
func (c *CORS) logRejection(kind policy.Kind, r *http.Request, origin []string, outcome int, rejection policy.Rejection, message []byte) {
	level, msg := zapcore.DebugLevel, "CORS request rejected"
	if kind == policy.Preflight {
		level, msg = zapcore.InfoLevel, "CORS preflight rejected"
	}
	if c.report {
		msg = wouldBeRejected[kindIndex(kind)]
	}
	if !c.logger.Core().Enabled(level) || !c.refusals.open(kind, outcome) {
		return
	}
	ce := c.logger.Check(level, msg)
	if ce == nil {
		return
	}
	if message == nil {
		message = rejection.AppendMessage(make([]byte, 0, rejection.MessageLen()))
	}
	fields := make([]zap.Field, 0, 8)
	fields = append(fields,
		zap.String("origin", policy.Printable(firstValue(origin), policy.MaxValueLen)),
		zap.String("method", policy.Printable(r.Method, policy.MaxValueLen)),
		// With several sites, the host tells whose policy refused.
		zap.String("host", policy.Printable(r.Host, maxLoggedHostLen)),
		zap.String("path", policy.Printable(r.URL.Path, maxLoggedPathLen)),
		zap.String("reason", string(rejection.Reason)),
		zap.ByteString("detail", message),
	)
	// Every preflight is an OPTIONS; the method it asks for says more.
	if requested, ok := r.Header["Access-Control-Request-Method"]; ok && r.Method == http.MethodOptions {
		fields = append(fields, zap.String("requested_method", policy.Printable(strings.Join(requested, ", "), policy.MaxValueLen)))
	}
	// What an origin source could not do: for the log only, never the body.
	if cause := rejection.Cause(); cause != nil {
		fields = append(fields, zap.Error(cause))
	}
	ce.Write(fields...)
}

// firstValue is the first field line of a header: with several Origin
// lines, the rejection's message says how many there were.
func firstValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}
