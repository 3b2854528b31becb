// Package config resolves miscim's global settings from flags, environment
// variables and a YAML config file of named profiles, in that order of
// precedence (DESIGN §1.1): flag > environment > profile > default.
//
// It reads files and the environment through injected functions so that it
// can be tested without a shell; it never prints.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Environment variable names.
const (
	EnvURL       = "MISCIM_URL"
	EnvToken     = "MISCIM_TOKEN"
	EnvTokenFile = "MISCIM_TOKEN_FILE"
	EnvDB        = "MISCIM_DB"
	EnvConfig    = "MISCIM_CONFIG"
	EnvProfile   = "MISCIM_PROFILE"
	EnvNoColor   = "NO_COLOR"
)

// Flags are the global flags as the user gave them; Changed reports which
// were set on the command line.
type Flags struct {
	URL       string
	Token     string
	TokenFile string
	DB        string
	Config    string
	Profile   string
	Output    string
	NoColor   bool
	Timeout   time.Duration
	Insecure  bool
	CAFile    string
	Verbose   bool
	Changed   func(name string) bool
}

// Profile is one named entry of the config file.
type Profile struct {
	URL       string `yaml:"url"`
	TokenFile string `yaml:"token-file"`
	DB        string `yaml:"db"`
	CAFile    string `yaml:"ca-file"`
	Insecure  bool   `yaml:"insecure"`
}

// File is the config file:
//
//	default-profile: prod
//	profiles:
//	  prod:
//	    url: https://mi.example.com/scim/v2
//	    token-file: ~/.config/miscim/prod.token
//	  local:
//	    db: /tmp/miscim.db
type File struct {
	DefaultProfile string             `yaml:"default-profile"`
	Profiles       map[string]Profile `yaml:"profiles"`
}

// Resolved is what commands use.
type Resolved struct {
	URL        string // "" means the embedded engine
	Token      string
	TokenFrom  string // where the token came from, for messages: "--token", "MISCIM_TOKEN", a file path
	DB         string
	ConfigPath string
	Profile    string
	Timeout    time.Duration
	Insecure   bool
	CAFile     string
	NoColor    bool
	Verbose    bool
}

// Env is what Resolve reads from the outside world.
type Env struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	HomeDir  string
}

// OSEnv is the process environment.
func OSEnv() Env {
	home, _ := os.UserHomeDir()
	return Env{Getenv: os.Getenv, ReadFile: os.ReadFile, HomeDir: home}
}

// Error is a problem with the user's settings: a bad config file, an
// unknown profile, an unreadable token file. Commands exit 2 on it.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// DefaultConfigPath is $XDG_CONFIG_HOME/miscim/config.yaml.
func DefaultConfigPath(env Env) string {
	base := env.Getenv("XDG_CONFIG_HOME")
	if base == "" {
		base = filepath.Join(env.HomeDir, ".config")
	}
	return filepath.Join(base, "miscim", "config.yaml")
}

// DefaultDBPath is $XDG_DATA_HOME/miscim/miscim.db.
func DefaultDBPath(env Env) string {
	base := env.Getenv("XDG_DATA_HOME")
	if base == "" {
		base = filepath.Join(env.HomeDir, ".local", "share")
	}
	return filepath.Join(base, "miscim", "miscim.db")
}

// Resolve applies precedence: a flag the user set wins, then its
// environment variable, then the selected profile, then the default.
func Resolve(f Flags, env Env) (Resolved, error) {
	changed := f.Changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	pick := func(flag, flagValue, envName string) string {
		if changed(flag) {
			return flagValue
		}
		if envName != "" {
			if v := env.Getenv(envName); v != "" {
				return v
			}
		}
		return ""
	}
	r := Resolved{Timeout: f.Timeout, Insecure: f.Insecure, CAFile: f.CAFile, Verbose: f.Verbose}
	r.NoColor = f.NoColor || env.Getenv(EnvNoColor) != ""

	r.ConfigPath = pick("config", f.Config, EnvConfig)
	explicitConfig := r.ConfigPath != ""
	if !explicitConfig {
		r.ConfigPath = DefaultConfigPath(env)
	}
	file, err := loadFile(r.ConfigPath, explicitConfig, env)
	if err != nil {
		return r, err
	}
	r.Profile = pick("profile", f.Profile, EnvProfile)
	if r.Profile == "" {
		r.Profile = file.DefaultProfile
	}
	var prof Profile
	if r.Profile != "" {
		p, ok := file.Profiles[r.Profile]
		if !ok {
			return r, errorf("profile %q is not in %s: %s", r.Profile, r.ConfigPath, describeProfiles(file))
		}
		prof = p
	}

	r.URL = pick("url", f.URL, EnvURL)
	if r.URL == "" {
		r.URL = prof.URL
	}
	r.DB = pick("db", f.DB, EnvDB)
	if r.DB == "" {
		r.DB = expandHome(prof.DB, env)
	}
	if r.DB == "" {
		r.DB = DefaultDBPath(env)
	}
	if !changed("ca-file") && prof.CAFile != "" {
		r.CAFile = expandHome(prof.CAFile, env)
	}
	if !changed("insecure") && prof.Insecure {
		r.Insecure = true
	}

	// Token: --token, --token-file, MISCIM_TOKEN, MISCIM_TOKEN_FILE, then
	// the profile's token-file.
	switch {
	case changed("token"):
		r.Token, r.TokenFrom = f.Token, "--token"
	case changed("token-file"):
		if r.Token, err = readToken(f.TokenFile, env); err != nil {
			return r, err
		}
		r.TokenFrom = f.TokenFile
	case env.Getenv(EnvToken) != "":
		r.Token, r.TokenFrom = env.Getenv(EnvToken), EnvToken
	case env.Getenv(EnvTokenFile) != "":
		path := env.Getenv(EnvTokenFile)
		if r.Token, err = readToken(path, env); err != nil {
			return r, err
		}
		r.TokenFrom = path
	case prof.TokenFile != "":
		path := expandHome(prof.TokenFile, env)
		if r.Token, err = readToken(path, env); err != nil {
			return r, err
		}
		r.TokenFrom = path
	}
	return r, nil
}

func describeProfiles(f File) string {
	if len(f.Profiles) == 0 {
		return "the file defines no profiles"
	}
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return "known profiles are " + strings.Join(names, ", ")
}

func loadFile(path string, explicit bool, env Env) (File, error) {
	var f File
	b, err := env.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return f, nil
		}
		return f, errorf("read config file %s: %v", path, err)
	}
	if err := yaml.UnmarshalWithOptions(b, &f, yaml.DisallowUnknownField()); err != nil {
		return f, errorf("config file %s is not valid: %s\nhint: see `miscim help` and docs/configuration.md for the format", path, yaml.FormatError(err, false, true))
	}
	return f, nil
}

func readToken(path string, env Env) (string, error) {
	b, err := env.ReadFile(expandHome(path, env))
	if err != nil {
		return "", errorf("read token file: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", errorf("token file %s is empty", path)
	}
	return tok, nil
}

func expandHome(p string, env Env) string {
	if p == "~" {
		return env.HomeDir
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(env.HomeDir, p[2:])
	}
	return p
}

// Load reads a config file; a missing file is an empty one.
func Load(path string, env Env) (File, error) { return loadFile(path, false, env) }

// ResolveOther resolves a second target that a command compares with the
// first (diff --against): spec is a SCIM base URL (http:// or https://),
// the name of a profile of the config file the first's settings read, or
// an embedded database (a SQLite file, or a postgres:// URL). tokenFile
// gives the URL's token (a profile's own token-file is used otherwise).
// Timeout, TLS settings and tracing are the first target's unless the
// profile sets its own.
func ResolveOther(spec, tokenFile string, base Resolved, env Env) (Resolved, error) {
	spec = strings.TrimSpace(spec)
	r := Resolved{ConfigPath: base.ConfigPath, Timeout: base.Timeout, Insecure: base.Insecure, CAFile: base.CAFile, NoColor: base.NoColor, Verbose: base.Verbose}
	lower := strings.ToLower(spec)
	isURL := strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
	var prof *Profile
	if !isURL && spec != "" {
		if file, err := loadFile(base.ConfigPath, false, env); err == nil {
			if p, ok := file.Profiles[spec]; ok {
				prof = &p
			}
		}
	}
	switch {
	case spec == "":
		return r, errorf("--against is empty: give a SCIM base URL, a profile of %s or an embedded database", base.ConfigPath)
	case isURL:
		r.URL = spec
	case prof != nil:
		r.Profile, r.URL, r.DB = spec, prof.URL, expandHome(prof.DB, env)
		if prof.CAFile != "" {
			r.CAFile = expandHome(prof.CAFile, env)
		}
		r.Insecure = r.Insecure || prof.Insecure
		if tokenFile == "" && prof.TokenFile != "" {
			tokenFile = expandHome(prof.TokenFile, env)
		}
		if r.URL == "" && r.DB == "" {
			return r, errorf("profile %q of %s names neither a url nor a db", spec, base.ConfigPath)
		}
	default:
		r.DB = expandHome(spec, env)
	}
	if tokenFile != "" {
		tok, err := readToken(tokenFile, env)
		if err != nil {
			return r, err
		}
		r.Token, r.TokenFrom = tok, tokenFile
	}
	return r, nil
}
