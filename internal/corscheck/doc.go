// Package corscheck makes, from the command line, the CORS check a browser
// makes for a cross-origin fetch(), against any server, and explains it
// step by step: what fetch() itself refuses (request.go), whether a
// preflight is needed (safelist.go), the checks a browser applies to the
// preflight's and the actual response (check.go, maxage.go), what a script
// may read (expose.go), the two requests, the actual one sent only for GET
// and HEAD unless asked (a check must not change data), and the limits on
// what is read of their responses (run.go), the console message of the
// engine named with --browser (browser.go, console.go), the likely fix
// (fix.go), Chromium's Local Network Access permission, which no response
// header can grant (localnetwork.go), and the printed report (report.go),
// into which every byte a server sent goes through printable (printable.go).
//
// The rules are the Fetch standard's, in the order and with the details of
// Chromium's network service (services/network/cors, Blink's
// cors_error_string.cc), since that is the console most people read. Where
// Chromium is more lenient than the standard (`*` in
// Access-Control-Allow-Headers still covering Authorization), the check
// follows the standard and says so.
//
// It has no Caddy in it: `caddy cors-check` (command.go at the root of the
// module) only parses flags and calls Run.
package corscheck
