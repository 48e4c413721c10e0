// Command caddy is Caddy with the standard modules and the cors module,
// the same main package that xcaddy generates for
// `xcaddy build --with github.com/caddy-cors/cors`.
package main

import (
	_ "time/tzdata"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// plug in Caddy modules here
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-cors/cors"
)

func main() {
	caddycmd.Main()
}
