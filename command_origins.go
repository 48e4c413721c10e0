package cors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/certmagic"
	"github.com/spf13/cobra"

	"github.com/caddy-cors/cors/internal/origins"
)

func init() {
	caddycmd.RegisterCommand(corsOriginsCommand)
}

// corsOriginsCommand is `caddy cors-origins`.
var corsOriginsCommand = caddycmd.Command{
	Name:  "cors-origins",
	Usage: "list|add <origin>...|remove <origin>...|set --from <file> [--config <file> [--adapter <name>]] [--key <key>]",
	Short: "Lists or changes the origins an origins_from storage source reads",
	Long: `
Lists or changes the list of origins kept under a key of Caddy's storage,
which "origins_from storage <key>" reads: every Caddy instance that shares
the storage picks up the change within its interval.

  list                  prints the list as stored
  add <origin>...       adds origins or patterns not yet listed
  remove <origin>...    removes lines that are exactly these origins
  set --from <file>     replaces the list with the file's (- for stdin)

The new list is checked before it is written, as the source checks it: an
invalid origin exits with status 1 and writes nothing.

--config finds the storage as "caddy storage export" does (the storage
option of that configuration, else Caddy's default storage), and the key
when the configuration has one origins_from storage source. --key names the
key otherwise, and is always accepted.
`,
	CobraFunc: func(cmd *cobra.Command) {
		cmd.Flags().StringP("config", "c", "", "Configuration file whose storage (and origins_from storage key) to use")
		cmd.Flags().StringP("adapter", "a", "", "Name of config adapter to apply")
		cmd.Flags().String("key", "", "Storage key of the list")
		cmd.Flags().String("from", "", "File with the new list, for set (- for stdin)")
		cmd.Args = cobra.MinimumNArgs(1)
		cmd.RunE = caddycmd.WrapCommandFuncForCobra(cmdCORSOrigins)
	},
}

func cmdCORSOrigins(fl caddycmd.Flags) (int, error) {
	args := fl.Args()
	action, values := args[0], args[1:]
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	storage, key, err := originsStorage(ctx, fl.String("config"), fl.String("adapter"), fl.String("key"))
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	current, err := storage.Load(ctx, key)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("reading storage key %q: %v", key, err)
	}

	var next []byte
	switch action {
	case "list":
		if len(values) != 0 {
			return caddy.ExitCodeFailedStartup, errors.New("list takes no origin")
		}
		_, err = os.Stdout.Write(current)
		return caddy.ExitCodeSuccess, err
	case "add":
		next, err = addOrigins(current, values)
	case "remove":
		next, err = removeOrigins(current, values)
	case "set":
		if len(values) != 0 || fl.String("from") == "" {
			return caddy.ExitCodeFailedStartup, errors.New("set takes the new list from a file: caddy cors-origins set --from <file>")
		}
		next, err = readListFrom(fl.String("from"))
	default:
		return caddy.ExitCodeFailedStartup, fmt.Errorf("unknown action %q: use list, add, remove or set", action)
	}
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	_, n, err := origins.ParseList(key, next)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("%v; nothing was written", err)
	}
	if err := storage.Store(ctx, key, next); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("writing storage key %q: %v", key, err)
	}
	fmt.Printf("%s: %d origins\n", key, n)
	return caddy.ExitCodeSuccess, nil
}

// addOrigins appends each origin not yet listed, each on its own line.
func addOrigins(list []byte, added []string) ([]byte, error) {
	if len(added) == 0 {
		return nil, errors.New("add needs at least one origin: caddy cors-origins add https://shop.example.com")
	}
	lines := listLines(list)
	out := bytes.Clone(list)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	for _, o := range added {
		if !slices.Contains(lines, o) {
			out = append(out, o+"\n"...)
			lines = append(lines, o)
		}
	}
	return out, nil
}

// removeOrigins drops the lines that are exactly the given origins; an
// origin not listed is an error, since it is likely mistyped.
func removeOrigins(list []byte, removed []string) ([]byte, error) {
	if len(removed) == 0 {
		return nil, errors.New("remove needs at least one origin")
	}
	lines := listLines(list)
	for _, o := range removed {
		if !slices.Contains(lines, o) {
			return nil, fmt.Errorf("%q is not in the list; nothing was written (caddy cors-origins list shows it)", o)
		}
	}
	var out []byte
	for line := range strings.Lines(string(list)) {
		if !slices.Contains(removed, strings.TrimSpace(line)) {
			out = append(out, line...)
		}
	}
	return out, nil
}

// listLines gives the list's lines, trimmed as ParseList trims them.
func listLines(list []byte) []string {
	var lines []string
	for line := range strings.Lines(string(list)) {
		lines = append(lines, strings.TrimSpace(line))
	}
	return lines
}

// readListFrom reads a new list, as the file source reads one.
func readListFrom(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, origins.MaxListSize+1))
	}
	return readList(path)
}

// adaptConfig reads a configuration file as JSON, adapted as `caddy run`
// would: by --adapter, or the Caddyfile adapter for a file whose name
// starts with Caddyfile. (caddycmd.LoadConfig does this too, but its
// results differ between Caddy versions.)
func adaptConfig(configFile, adapter string) ([]byte, error) {
	data, err := os.ReadFile(configFile)
	if err != nil {
		return nil, err
	}
	if adapter == "" && strings.HasPrefix(filepath.Base(configFile), "Caddyfile") {
		adapter = "caddyfile"
	}
	if adapter == "" {
		return data, nil
	}
	a := caddyconfig.GetAdapter(adapter)
	if a == nil {
		return nil, fmt.Errorf("unrecognized config adapter: %s", adapter)
	}
	cfg, _, err := a.Adapt(data, map[string]any{"filename": configFile})
	if err != nil {
		return nil, fmt.Errorf("adapting %s: %v", configFile, err)
	}
	return cfg, nil
}

// originsStorage finds the storage as `caddy storage export` does, and the
// key: the one given, else that of the configuration's only storage source.
func originsStorage(ctx caddy.Context, configFile, adapter, key string) (certmagic.Storage, string, error) {
	if configFile == "" {
		if key == "" {
			return nil, "", errors.New("name the list's key with --key, or the configuration whose origins_from storage source names it with --config")
		}
		return caddy.DefaultStorage, key, nil
	}
	cfg, err := adaptConfig(configFile, adapter)
	if err != nil {
		return nil, "", err
	}
	var withStorage struct {
		StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=caddy.storage inline_key=module"`
	}
	if err := json.Unmarshal(cfg, &withStorage); err != nil {
		return nil, "", fmt.Errorf("reading %s: %v", configFile, err)
	}
	storage := certmagic.Storage(caddy.DefaultStorage)
	if withStorage.StorageRaw != nil {
		mod, err := ctx.LoadModule(&withStorage, "StorageRaw")
		if err != nil {
			return nil, "", err
		}
		if storage, err = mod.(caddy.StorageConverter).CertMagicStorage(); err != nil {
			return nil, "", err
		}
	}
	if key != "" {
		return storage, key, nil
	}
	var keys []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if k, ok := v["key"].(string); ok && v["source"] == "storage" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	var config any
	_ = json.Unmarshal(cfg, &config)
	walk(config)
	if len(keys) != 1 {
		return nil, "", fmt.Errorf("%s has %d origins_from storage keys (%s): name the list's key with --key", configFile, len(keys), strings.Join(keys, ", "))
	}
	return storage, keys[0], nil
}
