package corscheck

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// rawServer answers every request on a loopback connection with response,
// written as is: no Go HTTP server in between to refuse or tidy what a
// hostile server sends, and nothing allocated per request, so that the
// allocations measured are the client's.
func rawServer(t *testing.T, response func(method string) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				requestLine, err := r.ReadString('\n')
				if err != nil {
					return
				}
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				method, _, _ := strings.Cut(requestLine, " ")
				conn.Write(response(method))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// respond builds an HTTP/1.1 response that closes the connection.
func respond(status string, fields, body string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\n" + fields + "Connection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// outputs runs the check and prints the report both ways; it returns the
// text, the JSON, the bytes allocated meanwhile and the error.
func outputs(t *testing.T, req Request) (text, jsonOut string, allocated uint64, runErr error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rep, runErr := Run(context.Background(), NewClient(DefaultTimeout), req)
	var tb, jb bytes.Buffer
	if rep != nil {
		if err := rep.WriteText(&tb); err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteJSON(&jb); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	return tb.String(), jb.String(), after.TotalAlloc - before.TotalAlloc, runErr
}

func TestRunBoundsWhatItReadsFromAHostileServer(t *testing.T) {
	const mib = 1 << 20
	allowedPreflight := "Access-Control-Allow-Origin: " + appOrigin + "\r\nAccess-Control-Allow-Methods: PUT\r\n"
	manyLines := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString("X:1\r\n")
		}
		return b.String()
	}
	tests := []struct {
		name     string
		response []byte
		// explained is what the text says about what it left out, and
		// jsonExplained what the JSON says, when that differs.
		explained, jsonExplained string
		// noVerdict: the check stops, with no verdict.
		noVerdict bool
	}{
		{
			name:      "a 9.8 MB Access-Control-Allow-Headers",
			response:  respond("204 No Content", allowedPreflight+"Access-Control-Allow-Headers: "+strings.Repeat("x-a,", 2_450_000)+"\r\n", ""),
			explained: "the response headers are larger than 256 KiB, the most cors-check reads: it stopped reading there",
			noVerdict: true,
		},
		{
			name:      "1.6 million header lines",
			response:  respond("204 No Content", allowedPreflight+manyLines(1_600_000), ""),
			explained: "the response headers are larger than 256 KiB, the most cors-check reads",
			noVerdict: true,
		},
		{
			name:      "a 250 KB Access-Control-Allow-Headers, within the limit",
			response:  respond("204 No Content", allowedPreflight+"Access-Control-Allow-Headers: "+strings.Repeat("x-a,", 62_500)+"\r\n", ""),
			explained: "[... 249744 more bytes not shown]",
		},
		{
			name:          "30 000 header lines, within the limit",
			response:      respond("204 No Content", allowedPreflight+manyLines(30_000), ""),
			explained:     "(29903 more field lines not listed: cors-check lists at most 100)",
			jsonExplained: `"response_headers_not_listed": 29903`,
		},
		{
			name:      "a refused preflight with a 9.8 MB body in one line",
			response:  respond("403 Forbidden", "", "CORS preflight rejected: "+strings.Repeat("x", 9_800_000)),
			explained: "[cors-check reads no more than 64 KiB of a body]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := rawServer(t, func(string) []byte { return tt.response })
			text, jsonOut, allocated, err := outputs(t, Request{URL: url + "/items", Origin: appOrigin, Method: "PUT",
				Headers: []Header{{"X-Foo", "1"}}})
			t.Logf("allocated %.1f MiB; text %d bytes, JSON %d bytes", float64(allocated)/mib, len(text), len(jsonOut))
			if tt.noVerdict != (err != nil) {
				t.Fatalf("error %v, want one: %v", err, tt.noVerdict)
			}
			if err != nil && !strings.Contains(err.Error(), tt.explained) {
				t.Errorf("error %q does not say %q", err, tt.explained)
			}
			if !strings.Contains(text, tt.explained) {
				t.Errorf("the text does not say %q:\n%.3000s", tt.explained, text)
			}
			if tt.jsonExplained == "" {
				tt.jsonExplained = tt.explained
			}
			if !strings.Contains(jsonOut, tt.jsonExplained) {
				t.Errorf("the JSON does not say %q:\n%.3000s", tt.jsonExplained, jsonOut)
			}
			if allocated > 32*mib {
				t.Errorf("allocated %.1f MiB, want at most 32 MiB whatever the server sends", float64(allocated)/mib)
			}
			if len(text) > 64<<10 || len(jsonOut) > 64<<10 {
				t.Errorf("printed %d bytes of text and %d of JSON, want at most 64 KiB each", len(text), len(jsonOut))
			}
		})
	}
}

// Each way a server's bytes reach the report: a header value, Location,
// the console line, a check's detail, the fix, the body, a Go error.
func TestRunEscapesTheServersBytesInEveryOutput(t *testing.T) {
	// \x9b opens a control sequence on many terminals (C1 CSI), U+0085 is
	// the same kind of control written in UTF-8, U+202E reverses what
	// follows, and \t is the one control a header value may hold.
	const hostile = "\x9b31m\u0085\u202eev\til"
	const escaped = `\x9b31m\u0085\u202eev\x09il`
	tests := []struct {
		name     string
		request  Request
		response func(method string) []byte
		// where names the output that must show the escaped bytes.
		where func(*Report) string
	}{
		{
			name:     "Access-Control-Allow-Origin, quoted in the console line",
			request:  Request{},
			response: func(string) []byte { return respond("200 OK", "Access-Control-Allow-Origin: "+hostile+"\r\n", "") },
			where:    func(r *Report) string { return r.ConsoleMessage },
		},
		{
			name:    "Access-Control-Allow-Credentials, quoted in the console line",
			request: Request{Credentials: true},
			response: func(string) []byte {
				return respond("200 OK", "Access-Control-Allow-Origin: "+appOrigin+"\r\nAccess-Control-Allow-Credentials: "+hostile+"\r\n", "")
			},
			where: func(r *Report) string { return r.ConsoleMessage },
		},
		{
			name:    "Location of a redirected preflight, in the fix",
			request: Request{Method: "PUT"},
			response: func(string) []byte {
				return respond("307 Temporary Redirect", "Location: /"+hostile+"\r\n", "")
			},
			where: func(r *Report) string { return r.Fix },
		},
		{
			name:    "Location of a redirected actual response, in a note",
			request: Request{},
			response: func(string) []byte {
				return respond("302 Found", "Access-Control-Allow-Origin: *\r\nLocation: /"+hostile+"\r\n", "")
			},
			where: func(r *Report) string { return strings.Join(r.Steps[2].Notes, " ") },
		},
		{
			name:    "the reason in a refused preflight's body, in the fix",
			request: Request{Method: "PUT"},
			response: func(string) []byte {
				return respond("403 Forbidden", "", "CORS preflight rejected: "+hostile+"\n")
			},
			where: func(r *Report) string { return r.Fix + " " + r.Steps[1].Exchange.BodyExcerpt },
		},
		{
			name:    "Access-Control-Allow-Headers, in a check",
			request: Request{Method: "PUT", Headers: []Header{{"X-Foo", "1"}}},
			response: func(string) []byte {
				return respond("204 No Content", "Access-Control-Allow-Origin: "+appOrigin+"\r\nAccess-Control-Allow-Methods: PUT\r\nAccess-Control-Allow-Headers: "+hostile+"\r\n", "")
			},
			where: func(r *Report) string { return checkDetail(r.Steps[1], allowHeaders) },
		},
		{
			name:    "any response header, in the exchange",
			request: Request{},
			response: func(string) []byte {
				return respond("200 OK", "Access-Control-Allow-Origin: *\r\nX-Note: "+hostile+"\r\n", "")
			},
			where: func(r *Report) string { return r.Steps[2].Exchange.ResponseHeaders[2].Value },
		},
		{
			name:    "Access-Control-Max-Age, in a note",
			request: Request{Method: "PUT"},
			response: func(string) []byte {
				return respond("204 No Content", "Access-Control-Allow-Origin: "+appOrigin+"\r\nAccess-Control-Allow-Methods: PUT\r\nAccess-Control-Max-Age: "+hostile+"\r\n", "")
			},
			where: func(r *Report) string { return checkDetail(r.Steps[1], maxAgeHeader) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := rawServer(t, tt.response)
			req := tt.request
			req.URL, req.Origin = url+"/items", appOrigin
			rep, err := Run(context.Background(), NewClient(DefaultTimeout), req)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := tt.where(rep); !strings.Contains(got, escaped) {
				t.Errorf("%q does not show the server's bytes escaped as %s", got, escaped)
			}
			assertPrintable(t, rep)
		})
	}

	t.Run("a Go error quoting the server", func(t *testing.T) {
		url := rawServer(t, func(string) []byte { return []byte("HTTP/1.1 2" + hostile + " OK\r\n\r\n") })
		rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: url, Origin: appOrigin, Method: "PUT"})
		if err == nil {
			t.Fatal("no error")
		}
		for _, r := range hostile {
			if r != 't' && !unicode.IsPrint(r) && strings.ContainsRune(err.Error(), r) {
				t.Errorf("error %q holds %U", err, r)
			}
		}
		assertPrintable(t, rep)
	})
}

func checkDetail(s Step, rule string) string {
	for _, c := range s.Checks {
		if c.Rule == rule {
			return c.Detail
		}
	}
	return ""
}

// assertPrintable checks both outputs of a report hold nothing but
// printable characters and the text's line breaks.
func assertPrintable(t *testing.T, rep *Report) {
	t.Helper()
	var text, jsonOut bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&jsonOut); err != nil {
		t.Fatal(err)
	}
	if bad := firstUnprintable(text.String()); bad != "" {
		t.Errorf("text output holds %s:\n%s", bad, text.String())
	}
	// Decoded, since the JSON encoder would turn the bytes into escapes
	// a consumer decodes back to them.
	var decoded any
	if err := json.Unmarshal(jsonOut.Bytes(), &decoded); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if bad := firstUnprintable(v); bad != "" {
				t.Errorf("JSON string holds %s: %q", bad, v)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(decoded)
}

func firstUnprintable(s string) string {
	for i, r := range s {
		if r == utf8.RuneError {
			return "invalid UTF-8 at byte " + strconv.Itoa(i)
		}
		if r != '\n' && !unicode.IsPrint(r) {
			return fmt.Sprintf("%U (a control or format character)", r)
		}
	}
	return ""
}
